package dev.mqdet.registry.view;

import dev.mqdet.events.ExemplarQuery;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The registry's picture of the exemplar-queries topic: the latest value of every key, grouped by query set. It is
 * rebuilt from the topic at start and kept current by this instance's acknowledged writes and by the topic follower.
 *
 * <p>Writes to one key always land in the same partition, so a key's records are totally ordered by their offset.
 * A record is applied only when its offset is beyond the one already applied for its key: the follower reading this
 * instance's own write back is then a no-op, and an old tombstone read back after the category was re-created
 * cannot delete it. Offsets, not revisions, decide here because two records may carry the same revision when two
 * writers race; the offset is what compaction keeps.
 *
 * <p>Deleted keys stay as empty slots remembering their last revision, so a re-created category continues its
 * revision sequence and every consumer sees it as newer.
 *
 * <p>Values are Avro records, which are mutable: the view never hands out its own instances for change; callers build
 * new records with {@code ExemplarQuery.newBuilder(old)}, which copies deeply.
 */
public final class QuerySetView {

    /** One key: the offset last applied, the value (null when deleted) and the highest revision seen. */
    private record Slot(long offset, ExemplarQuery value, long revision) {}

    /** A query set's overview. */
    public record Summary(String querySetId, int categories, long version, long updatedAtMs) {}

    private final Map<String, TreeMap<String, Slot>> sets = new HashMap<>();
    private long applied;

    /**
     * Applies a record at {@code offset}; {@code value} null is a tombstone.
     *
     * @return whether it changed the view (false when it is not newer than what the view holds for the key)
     */
    public synchronized boolean apply(String querySetId, String categoryId, ExemplarQuery value, long offset) {
        TreeMap<String, Slot> set = sets.computeIfAbsent(querySetId, k -> new TreeMap<>());
        Slot old = set.get(categoryId);
        if (old != null && offset <= old.offset()) {
            return false;
        }
        long revision = Math.max(old == null ? 0 : old.revision(), value == null ? 0 : value.getRevision());
        set.put(categoryId, new Slot(offset, value, revision));
        applied++;
        return true;
    }

    /** Ids of the query sets that have at least one category, sorted. */
    public synchronized List<Summary> querySets() {
        List<Summary> out = new ArrayList<>();
        new TreeMap<>(sets).forEach((id, set) -> {
            int count = 0;
            long version = 0;
            long updated = 0;
            for (Slot slot : set.values()) {
                if (slot.value() != null) {
                    count++;
                    version = Math.max(version, slot.value().getRevision());
                    updated = Math.max(updated, slot.value().getUpdatedAtMs().toEpochMilli());
                }
            }
            if (count > 0) {
                out.add(new Summary(id, count, version, updated));
            }
        });
        return out;
    }

    /** The live categories of a query set by category id, sorted; empty when the query set has none. */
    public synchronized Map<String, ExemplarQuery> querySet(String querySetId) {
        TreeMap<String, Slot> set = sets.get(querySetId);
        if (set == null) {
            return Map.of();
        }
        Map<String, ExemplarQuery> out = new LinkedHashMap<>();
        set.forEach((id, slot) -> {
            if (slot.value() != null) {
                out.put(id, slot.value());
            }
        });
        return Collections.unmodifiableMap(out);
    }

    public synchronized Optional<ExemplarQuery> category(String querySetId, String categoryId) {
        TreeMap<String, Slot> set = sets.get(querySetId);
        Slot slot = set == null ? null : set.get(categoryId);
        return Optional.ofNullable(slot == null ? null : slot.value());
    }

    /** The highest revision this key has had, deleted or not; 0 for a key never seen. */
    public synchronized long lastRevision(String querySetId, String categoryId) {
        TreeMap<String, Slot> set = sets.get(querySetId);
        Slot slot = set == null ? null : set.get(categoryId);
        return slot == null ? 0 : slot.revision();
    }

    /** How many records changed the view so far: for logs and tests. */
    public synchronized long appliedCount() {
        return applied;
    }
}
