package dev.mqdet.streams.encode;

import dev.mqdet.events.ExemplarEmbedding;
import dev.mqdet.schemaregistry.SchemaRegistryUnavailableException;
import dev.mqdet.streams.detect.QuerySets;
import dev.mqdet.streams.ops.PipelineMetrics;
import dev.mqdet.topics.LogSafe;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the global store of exemplar embeddings equal to the compacted topic (latest value per key, tombstones
 * delete), and tells the query-set cache which query set changed.
 *
 * <p>Values arrive as bytes and are decoded here: a record that does not decode (bad bytes, an unknown schema) is
 * logged, counted ({@code mqdet_exemplar_embeddings_skipped_total}) and skipped, never fatal. The global thread
 * cannot be replaced, so one bad record must not stop every instance; the key's previous value stays, and the
 * encoder's next write for that category replaces it. A registry that cannot be reached is not the record's fault:
 * it is retried here for a while before the error stops the instance.
 */
public final class EmbeddingStoreUpdater implements Processor<String, byte[], Void, Void> {

    private static final Logger log = LoggerFactory.getLogger(EmbeddingStoreUpdater.class);
    private static final int REGISTRY_ATTEMPTS = 30;
    private static final long REGISTRY_BACKOFF_MS = 1_000;

    private final String storeName;
    private final QuerySets querySets;
    private final Deserializer<ExemplarEmbedding> embeddings;
    private final PipelineMetrics metrics;
    private ProcessorContext<Void, Void> context;
    private KeyValueStore<String, ExemplarEmbedding> store;

    public EmbeddingStoreUpdater(String storeName, QuerySets querySets, Deserializer<ExemplarEmbedding> embeddings, PipelineMetrics metrics) {
        this.storeName = storeName;
        this.querySets = querySets;
        this.embeddings = embeddings;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        this.context = context;
        this.store = context.getStateStore(storeName);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        if (record.key() == null) {
            skip(record, "no key");
            return;
        }
        if (record.value() == null) {
            store.delete(record.key());
        } else {
            ExemplarEmbedding embedding;
            try {
                embedding = decode(record.value());
            } catch (RuntimeException e) {
                skip(record, e.getClass().getSimpleName() + ": " + e.getMessage());
                return;
            }
            store.put(record.key(), embedding);
        }
        querySets.changed(record.key()); // after the write: a lookup that saw the old generation scans again
    }

    private ExemplarEmbedding decode(byte[] value) {
        String topic = context.recordMetadata().map(RecordMetadata::topic).orElse("");
        for (int attempt = 1; ; attempt++) {
            try {
                ExemplarEmbedding embedding = embeddings.deserialize(topic, value);
                if (embedding == null) {
                    throw new IllegalArgumentException("value decodes to nothing");
                }
                return embedding;
            } catch (SchemaRegistryUnavailableException e) {
                if (attempt == REGISTRY_ATTEMPTS) {
                    throw e;
                }
                log.warn("schema registry unavailable while reading exemplar embeddings (attempt {} of {}): {}",
                        attempt, REGISTRY_ATTEMPTS, e.getMessage());
                sleep();
            }
        }
    }

    private void skip(Record<String, byte[]> record, String reason) {
        String where = context.recordMetadata().map(m -> LogSafe.quote(m.topic(), 255) + "-" + m.partition() + "@" + m.offset()).orElse("?");
        log.warn("skipped an undecodable exemplar embedding at {} (key {}): {}", where,
                LogSafe.quote(String.valueOf(record.key()), 300), LogSafe.quote(reason, 500));
        metrics.embeddingSkipped();
    }

    private static void sleep() {
        try {
            Thread.sleep(REGISTRY_BACKOFF_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the schema registry", e);
        }
    }
}
