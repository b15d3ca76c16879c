package dev.mqdet.streams.detect;

import dev.mqdet.events.ExemplarEmbedding;
import dev.mqdet.events.ExemplarVector;
import dev.mqdet.inference.QueryCategory;
import dev.mqdet.topics.Keys;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Reads one query set, as encoded for one model, from the store of exemplar embeddings: a prefix scan of
 * {@code modelId/querySetId/}. The store is global, so every instance sees every query set.
 */
public final class QuerySets {

    /** The categories of a query set and its version (the highest category revision). */
    public record QuerySet(String querySetId, long version, List<QueryCategory> categories) {}

    private final ReadOnlyKeyValueStore<String, ExemplarEmbedding> store;
    private final String modelId;

    public QuerySets(ReadOnlyKeyValueStore<String, ExemplarEmbedding> store, String modelId) {
        this.store = store;
        this.modelId = modelId;
    }

    /** The query set, or an empty one when no category of it has been encoded for this model. */
    public QuerySet lookup(String querySetId) {
        if (!Keys.isValidId(querySetId)) {
            return new QuerySet(querySetId, -1, List.of());
        }
        List<QueryCategory> categories = new ArrayList<>();
        long version = -1;
        try (KeyValueIterator<String, ExemplarEmbedding> it = store.prefixScan(Keys.embeddingPrefix(modelId, querySetId), new StringSerializer())) {
            while (it.hasNext()) {
                KeyValue<String, ExemplarEmbedding> entry = it.next();
                ExemplarEmbedding embedding = entry.value;
                List<float[]> vectors = new ArrayList<>(embedding.getExemplars().size());
                for (ExemplarVector vector : embedding.getExemplars()) {
                    float[] values = new float[vector.getVector().size()];
                    for (int i = 0; i < values.length; i++) {
                        values[i] = vector.getVector().get(i);
                    }
                    vectors.add(values);
                }
                categories.add(new QueryCategory(embedding.getCategoryId(), embedding.getLabel(), vectors));
                version = Math.max(version, embedding.getQueryRevision());
            }
        }
        return new QuerySet(querySetId, version, categories);
    }
}
