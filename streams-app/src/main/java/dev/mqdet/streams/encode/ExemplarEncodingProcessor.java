package dev.mqdet.streams.encode;

import dev.mqdet.events.DeadLetter;
import dev.mqdet.events.ExemplarEmbedding;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.inference.MqDetModel;
import dev.mqdet.schemaregistry.SchemaRegistryUnavailableException;
import dev.mqdet.streams.DeadLetters;
import dev.mqdet.streams.DeadLetters.Origin;
import dev.mqdet.streams.ops.PipelineMetrics;
import dev.mqdet.topics.Keys;
import dev.mqdet.topics.LogSafe;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Encodes each category's exemplars with this instance's model and writes them to {@code exemplar-embeddings},
 * keyed {@code modelId/querySetId/categoryId}; a tombstone on {@code exemplar-queries} becomes a tombstone there.
 *
 * <p>The queries are also kept in a local (changelogged) store, so that when the model changes (a new model id),
 * every query is re-encoded for it at start-up without re-reading the topic: features of one model mean nothing
 * to another, and the new model must not start blind. The re-encoding runs in slices of at most a second, each in
 * its own transaction under exactly-once (see {@link #catchUpSlice()}).
 */
public final class ExemplarEncodingProcessor implements Processor<String, byte[], Object, Object> {

    public static final String QUERIES_STORE = "exemplar-queries-store";
    public static final String EMBEDDINGS_SINK = "exemplar-embeddings-sink";
    public static final String DLQ_SINK = "exemplar-queries-dlq-sink";
    /** The longest one catch-up punctuation encodes for: well under the default transaction timeout of 10 s. */
    static final long CATCH_UP_SLICE_MS = 1_000;
    private static final Logger log = LoggerFactory.getLogger(ExemplarEncodingProcessor.class);

    private final MqDetModel model;
    private final Deserializer<ExemplarQuery> queries;
    private final String embeddingsStore;
    private final PipelineMetrics metrics;
    private final QueryEncoder encoder;
    private ProcessorContext<Object, Object> context;
    private KeyValueStore<String, byte[]> store;
    private Cancellable catchUp;
    private String catchUpFrom; // the last key the catch-up looked at; null: from the first
    private int reencoded;

    public ExemplarEncodingProcessor(MqDetModel model, Deserializer<ExemplarQuery> queries, String embeddingsStore, PipelineMetrics metrics,
                                     boolean calibrate) {
        this.model = model;
        this.encoder = new QueryEncoder(model, metrics, calibrate);
        this.queries = queries;
        this.embeddingsStore = embeddingsStore;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<Object, Object> context) {
        this.context = context;
        this.store = context.getStateStore(QUERIES_STORE);
        // Right after start, in slices: encode what this model has not encoded yet (a new model id, or a crash in between).
        this.catchUp = context.schedule(Duration.ofMillis(10), PunctuationType.WALL_CLOCK_TIME, now -> catchUpSlice());
    }

    @Override
    public void process(Record<String, byte[]> record) {
        Origin origin = context.recordMetadata().map(Origin::of).orElse(new Origin("?", -1, -1));
        String key = record.key();
        String[] ids;
        try {
            ids = Keys.split(key, 2);
        } catch (IllegalArgumentException e) {
            deadLetter(origin, key, record.value(), "deserialize", e);
            return;
        }
        if (record.value() == null) {
            store.delete(key);
            context.forward(new Record<>(Keys.embedding(model.modelId(), ids[0], ids[1]), null, record.timestamp()), EMBEDDINGS_SINK);
            return;
        }
        ExemplarQuery query;
        try {
            query = queries.deserialize(origin.topic(), record.value());
            if (!query.getQuerySetId().equals(ids[0]) || !query.getCategoryId().equals(ids[1])) {
                throw new IllegalArgumentException("key '" + key + "' does not match the record's ids "
                        + query.getQuerySetId() + "/" + query.getCategoryId());
            }
        } catch (SchemaRegistryUnavailableException transientFailure) {
            throw transientFailure;
        } catch (RuntimeException e) {
            deadLetter(origin, key, record.value(), "deserialize", e);
            return;
        }
        try {
            ExemplarEmbedding embedding = encoder.encode(query);
            store.put(key, record.value());
            context.forward(new Record<>(Keys.embedding(model.modelId(), ids[0], ids[1]), embedding, record.timestamp()), EMBEDDINGS_SINK);
            // readers of the embeddings (every instance's global store) are read_committed: the new exemplars take
            // effect at this commit, not at the next commit interval (Kafka Streams folds requests of one loop together)
            context.commit();
        } catch (SchemaRegistryUnavailableException transientFailure) {
            throw transientFailure;
        } catch (RuntimeException e) { // any failure of this one query: its dead letter, and the next query goes on
            deadLetter(origin, key, record.value(), "encode", e);
        }
    }

    /**
     * One slice of the catch-up: encodes queries this model has not encoded yet, in key order from where the last
     * slice stopped, for at most {@link #CATCH_UP_SLICE_MS}. Kafka Streams commits between punctuations, so a large
     * query set re-encoded at a model roll-out becomes many short transactions, never one that outlasts the
     * producer's transaction timeout; records of the topic are processed in between as usual.
     */
    private void catchUpSlice() {
        ReadOnlyKeyValueStore<String, ExemplarEmbedding> embeddings = context.getStateStore(embeddingsStore);
        long deadline = System.nanoTime() + CATCH_UP_SLICE_MS * 1_000_000;
        boolean done = true;
        try (KeyValueIterator<String, byte[]> it = store.range(catchUpFrom, null)) {
            while (it.hasNext()) {
                if (System.nanoTime() > deadline) {
                    done = false;
                    break;
                }
                KeyValue<String, byte[]> entry = it.next();
                if (entry.key.equals(catchUpFrom)) {
                    continue; // done by the last slice
                }
                catchUpFrom = entry.key;
                reencodeIfMissing(embeddings, entry);
            }
        }
        if (done) {
            catchUp.cancel();
            if (reencoded > 0) {
                log.info("task {}: re-encoded {} exemplar queries for model {}", context.taskId(), reencoded, model.modelId());
            }
        }
    }

    private void reencodeIfMissing(ReadOnlyKeyValueStore<String, ExemplarEmbedding> embeddings, KeyValue<String, byte[]> entry) {
        ExemplarQuery query;
        try {
            query = queries.deserialize("", entry.value);
        } catch (SchemaRegistryUnavailableException transientFailure) {
            throw transientFailure;
        } catch (RuntimeException e) { // it decoded when it was stored: its schema is gone from the registry
            log.warn("stored query {} no longer decodes: {}", LogSafe.quote(entry.key, 300), LogSafe.quote(e.getMessage(), 500));
            return;
        }
        String key = Keys.embedding(model.modelId(), query.getQuerySetId(), query.getCategoryId());
        ExemplarEmbedding existing = embeddings.get(key);
        if (existing != null && existing.getQueryRevision() == query.getRevision()) {
            return;
        }
        try {
            context.forward(new Record<>(key, encoder.encode(query), System.currentTimeMillis()), EMBEDDINGS_SINK);
            reencoded++;
        } catch (SchemaRegistryUnavailableException transientFailure) {
            throw transientFailure;
        } catch (RuntimeException e) {
            log.warn("query {} no longer encodes with model {}: {}", LogSafe.quote(entry.key, 300), model.modelId(), LogSafe.quote(e.getMessage(), 500));
        }
    }

    private void deadLetter(Origin origin, String key, byte[] value, String stage, Exception error) {
        byte[] keyBytes = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
        DeadLetter letter = DeadLetters.of(origin, keyBytes, value, null, stage, error);
        log.warn("dead letter from {}-{}@{} at {}: {}", origin.topic(), origin.partition(), origin.offset(), stage, letter.getErrorMessage());
        context.forward(new Record<>(keyBytes, letter, System.currentTimeMillis()), DLQ_SINK);
        metrics.deadLetter(stage);
    }
}
