package dev.mqdet.streams.encode;

import dev.mqdet.events.ExemplarEmbedding;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/** Keeps the global store of exemplar embeddings equal to the compacted topic: latest value per key, tombstones delete. */
public final class EmbeddingStoreUpdater implements Processor<String, ExemplarEmbedding, Void, Void> {

    private final String storeName;
    private KeyValueStore<String, ExemplarEmbedding> store;

    public EmbeddingStoreUpdater(String storeName) {
        this.storeName = storeName;
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
    }
}
