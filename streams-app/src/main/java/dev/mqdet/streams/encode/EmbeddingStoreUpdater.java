package dev.mqdet.streams.encode;

import dev.mqdet.events.ExemplarEmbedding;
import dev.mqdet.streams.detect.QuerySets;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Keeps the global store of exemplar embeddings equal to the compacted topic (latest value per key, tombstones
 * delete), and tells the query-set cache which query set changed.
 */
public final class EmbeddingStoreUpdater implements Processor<String, ExemplarEmbedding, Void, Void> {

    private final String storeName;
    private final QuerySets querySets;
    private KeyValueStore<String, ExemplarEmbedding> store;

    public EmbeddingStoreUpdater(String storeName, QuerySets querySets) {
        this.storeName = storeName;
        this.querySets = querySets;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        store = context.getStateStore(storeName);
    }

    @Override
    public void process(Record<String, ExemplarEmbedding> record) {
        if (record.value() == null) {
            store.delete(record.key());
        } else {
            store.put(record.key(), record.value());
        }
        querySets.changed(record.key()); // after the write: a lookup that saw the old generation scans again

    }
}
