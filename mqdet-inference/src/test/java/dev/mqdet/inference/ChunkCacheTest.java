package dev.mqdet.inference;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.inference.PromptEncoder.Chunk;
import dev.mqdet.inference.PromptEncoder.TextInput;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChunkCacheTest {

    private static List<Chunk> chunksOf(int positiveFloats) { // 4 bytes a float, plus 2 x 8 bytes of one token
        return List.of(new Chunk(0, 1, new TextInput(1, 1, 1, new long[1], new long[1], new float[positiveFloats])));
    }

    @Test
    void theLeastRecentlyUsedEntriesGoFirstOnceTheBytesAreOverTheBound() {
        ChunkCache cache = new ChunkCache(3 * (16 + 4_000));
        List<Chunk> a = chunksOf(1_000);
        cache.put(List.of("a"), a);
        cache.put(List.of("b"), chunksOf(1_000));
        cache.put(List.of("c"), chunksOf(1_000));
        assertThat(cache.get(List.of("a"))).isSameAs(a); // a is now the most recently used
        cache.put(List.of("d"), chunksOf(1_000));

        assertThat(cache.get(List.of("b"))).as("least recently used").isNull();
        assertThat(cache.get(List.of("a"))).isSameAs(a);
        assertThat(cache.size()).isEqualTo(3);
        assertThat(cache.bytes()).isEqualTo(3 * (16 + 4_000));
    }

    @Test
    void anEntryLargerThanTheWholeCacheIsNotKept() {
        ChunkCache cache = new ChunkCache(1_000);
        cache.put(List.of("small"), chunksOf(10));
        cache.put(List.of("huge"), chunksOf(1_000));
        assertThat(cache.get(List.of("huge"))).isNull();
        assertThat(cache.get(List.of("small"))).isNotNull();
    }
}
