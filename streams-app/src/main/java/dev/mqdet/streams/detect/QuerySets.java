package dev.mqdet.streams.detect;

import dev.mqdet.events.ExemplarEmbedding;
import dev.mqdet.events.ExemplarVector;
import dev.mqdet.inference.QueryCategory;
import dev.mqdet.topics.Keys;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The query sets of one model, read from the global store of exemplar embeddings (a prefix scan of
 * {@code modelId/querySetId/}) and kept, ready for the model, until the store changes for that query set.
 *
 * <p>One instance per app, shared by every task and by the global store's updater: the updater calls
 * {@link #changed} after each write, which moves the query set to a new generation; a lookup rebuilds a query set
 * only when its generation moved since it was cached. So the cost of a batch does not grow with the number of
 * categories or of registered query sets: the Avro records are unboxed into float arrays once per change, not per
 * batch. The cache holds at most {@code maxCachedVectors} exemplar vectors (least recently used out first).
 */
public final class QuerySets {

    /** The categories of a query set and its version (the highest category revision). */
    public record QuerySet(String querySetId, long version, List<QueryCategory> categories) {
        public boolean isEmpty() {
            return categories.isEmpty();
        }
    }

    private record Cached(QuerySet querySet, long generation, long vectors) {}

    private final String modelId;
    private final long maxCachedVectors;
    private final Map<String, AtomicLong> generations = new ConcurrentHashMap<>();
    private final LinkedHashMap<String, Cached> cache = new LinkedHashMap<>(64, 0.75f, true);
    private long cachedVectors;

    public QuerySets(String modelId, long maxCachedVectors) {
        this.modelId = modelId;
        this.maxCachedVectors = maxCachedVectors;
    }

    /** Called by the global store's updater after it wrote or deleted {@code embeddingKey}. */
    public void changed(String embeddingKey) {
        String[] parts = embeddingKey == null ? new String[0] : embeddingKey.split("/", 3);
        if (parts.length == 3 && parts[0].equals(modelId)) {
            generations.computeIfAbsent(parts[1], id -> new AtomicLong()).incrementAndGet();
        }
    }

    /** The query set, or an empty one when no category of it has been encoded for this model. */
    public QuerySet lookup(ReadOnlyKeyValueStore<String, ExemplarEmbedding> store, String querySetId) {
        if (!Keys.isValidId(querySetId)) {
            return new QuerySet(querySetId, -1, List.of());
        }
        // Read the generation before the store: a change during the scan then forces the next lookup to scan again.
        AtomicLong counter = generations.get(querySetId);
        long generation = counter == null ? 0 : counter.get();
        synchronized (cache) {
            Cached cached = cache.get(querySetId);
            if (cached != null && cached.generation() == generation) {
                return cached.querySet();
            }
        }
        QuerySet querySet = scan(store, querySetId);
        long vectors = querySet.categories().stream().mapToLong(c -> c.exemplars().size() + c.negatives().size()).sum();
        synchronized (cache) {
            Cached previous = cache.put(querySetId, new Cached(querySet, generation, vectors));
            cachedVectors += vectors - (previous == null ? 0 : previous.vectors());
            var eldest = cache.entrySet().iterator();
            while (cachedVectors > maxCachedVectors && cache.size() > 1 && eldest.hasNext()) {
                cachedVectors -= eldest.next().getValue().vectors();
                eldest.remove();
            }
        }
        return querySet;
    }

    private static List<float[]> unboxed(List<ExemplarVector> records) {
        List<float[]> vectors = new ArrayList<>(records.size());
        for (ExemplarVector vector : records) {
            float[] values = new float[vector.getVector().size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = vector.getVector().get(i);
            }
            vectors.add(values);
        }
        return vectors;
    }

    private static Float valid(Float threshold) {
        return threshold != null && threshold >= 0 && threshold <= 1 ? threshold : null;
    }

    private QuerySet scan(ReadOnlyKeyValueStore<String, ExemplarEmbedding> store, String querySetId) {
        List<QueryCategory> categories = new ArrayList<>();
        long version = -1;
        try (KeyValueIterator<String, ExemplarEmbedding> it = store.prefixScan(Keys.embeddingPrefix(modelId, querySetId), new StringSerializer())) {
            while (it.hasNext()) {
                KeyValue<String, ExemplarEmbedding> entry = it.next();
                ExemplarEmbedding embedding = entry.value;
                List<String> ids = embedding.getExemplars().stream().map(v -> v.getExemplarId().toString()).toList();
                // checked by the encoder, so a foreign writer's bad value means the default
                categories.add(new QueryCategory(embedding.getCategoryId(), embedding.getLabel(), unboxed(embedding.getExemplars()),
                        ids, unboxed(embedding.getNegatives()), valid(embedding.getScoreThreshold()), valid(embedding.getCalibratedThreshold())));
                version = Math.max(version, embedding.getQueryRevision());
            }
        }
        return new QuerySet(querySetId, version, List.copyOf(categories));
    }
}
