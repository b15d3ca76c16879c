package dev.mqdet.inference;

import dev.mqdet.inference.PromptEncoder.Chunk;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Encoded query sets by their category texts, least recently used out first, bounded by the bytes the chunks'
 * arrays take (a per-category chunk of 256 categories carries a 2 MB positive map, so a count bound would not do).
 * Keyed by content, not by query-set id: an entry is never stale, and query sets with the same names share one.
 */
final class ChunkCache {

    private final long maxBytes;
    private final LinkedHashMap<List<String>, List<Chunk>> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;

    ChunkCache(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    synchronized List<Chunk> get(List<String> texts) {
        return entries.get(texts);
    }

    synchronized void put(List<String> texts, List<Chunk> chunks) {
        long size = size(chunks);
        if (size > maxBytes) {
            return; // larger than the whole cache: encoded per call
        }
        List<Chunk> previous = entries.put(List.copyOf(texts), chunks);
        bytes += size - (previous == null ? 0 : size(previous));
        for (Iterator<Map.Entry<List<String>, List<Chunk>>> it = entries.entrySet().iterator(); bytes > maxBytes && it.hasNext(); ) {
            bytes -= size(it.next().getValue());
            it.remove();
        }
    }

    synchronized int size() {
        return entries.size();
    }

    synchronized long bytes() {
        return bytes;
    }

    static long size(List<Chunk> chunks) {
        long size = 0;
        for (Chunk chunk : chunks) {
            size += 8L * chunk.text().ids().length + 8L * chunk.text().mask().length + 4L * chunk.text().positiveMap().length;
        }
        return size;
    }
}
