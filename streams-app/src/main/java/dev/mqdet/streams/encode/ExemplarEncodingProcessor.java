package dev.mqdet.streams.encode;

import dev.mqdet.events.DeadLetter;
import dev.mqdet.events.Exemplar;
import dev.mqdet.events.ExemplarEmbedding;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.ExemplarVector;
import dev.mqdet.inference.Box;
import dev.mqdet.inference.InferenceException;
import dev.mqdet.inference.MqDetModel;
import dev.mqdet.schemaregistry.SchemaRegistryUnavailableException;
import dev.mqdet.streams.DeadLetters;
import dev.mqdet.streams.DeadLetters.Origin;
import dev.mqdet.streams.detect.ImageSource;
import dev.mqdet.streams.ops.PipelineMetrics;
import dev.mqdet.topics.Keys;
import dev.mqdet.topics.LogSafe;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    private final boolean calibrate;
    private ProcessorContext<Object, Object> context;
    private KeyValueStore<String, byte[]> store;
    private Cancellable catchUp;
    private String catchUpFrom; // the last key the catch-up looked at; null: from the first
    private int reencoded;

    public ExemplarEncodingProcessor(MqDetModel model, Deserializer<ExemplarQuery> queries, String embeddingsStore, PipelineMetrics metrics,
                                     boolean calibrate) {
        this.model = model;
        this.calibrate = calibrate;
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
            ExemplarEmbedding embedding = encode(query);
            store.put(key, record.value());
            context.forward(new Record<>(Keys.embedding(model.modelId(), ids[0], ids[1]), embedding, record.timestamp()), EMBEDDINGS_SINK);
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
            context.forward(new Record<>(key, encode(query), System.currentTimeMillis()), EMBEDDINGS_SINK);
            reencoded++;
        } catch (SchemaRegistryUnavailableException transientFailure) {
            throw transientFailure;
        } catch (RuntimeException e) {
            log.warn("query {} no longer encodes with model {}: {}", LogSafe.quote(entry.key, 300), model.modelId(), LogSafe.quote(e.getMessage(), 500));
        }
    }

    private ExemplarEmbedding encode(ExemplarQuery query) {
        if ((query.getLabel() == null || query.getLabel().isBlank()) && query.getExemplars().isEmpty()) {
            throw new InferenceException.InvalidQueryException("category " + query.getQuerySetId() + "/" + query.getCategoryId()
                    + " has neither a label nor exemplars");
        }
        Float threshold = query.getScoreThreshold();
        if (threshold != null && !(threshold >= 0 && threshold <= 1)) {
            throw new InferenceException.InvalidQueryException("category " + query.getQuerySetId() + "/" + query.getCategoryId()
                    + " has score threshold " + threshold + ", not in [0, 1]");
        }
        List<Exemplar> exemplars = query.getExemplars();
        int max = model.modelPackage().maxExemplars();
        if (exemplars.size() > max) { // refused here once, instead of failing every event of the query set at inference
            throw new InferenceException.InvalidQueryException("category " + query.getQuerySetId() + "/" + query.getCategoryId()
                    + " has " + exemplars.size() + " exemplars; model " + model.modelId() + " takes at most " + max + " per category");
        }
        List<float[]> vectors = vectors(model, query);
        List<ExemplarVector> out = new ArrayList<>(exemplars.size());
        for (int i = 0; i < exemplars.size(); i++) {
            List<Float> values = new ArrayList<>(vectors.get(i).length);
            for (float v : vectors.get(i)) {
                values.add(v);
            }
            out.add(new ExemplarVector(exemplars.get(i).getExemplarId(), values));
        }
        metrics.exemplarEncoded();
        Float calibrated = null;
        if (calibrate) {
            List<Calibration.Shot> shots = new ArrayList<>(exemplars.size());
            for (int i = 0; i < exemplars.size(); i++) {
                var b = exemplars.get(i).getBox();
                shots.add(new Calibration.Shot(ImageSource.copy(exemplars.get(i).getImage().getData()),
                        new Box(b.getX1(), b.getY1(), b.getX2(), b.getY2()), vectors.get(i)));
            }
            calibrated = Calibration.threshold(model, query.getCategoryId(), query.getLabel(), shots);
        }
        return ExemplarEmbedding.newBuilder()
                .setModelId(model.modelId())
                .setQuerySetId(query.getQuerySetId())
                .setCategoryId(query.getCategoryId())
                .setLabel(query.getLabel())
                .setQueryRevision(query.getRevision())
                .setDimension(model.modelPackage().featureDim())
                .setExemplars(out)
                .setEncodedAtMs(Instant.now())
                .setScoreThreshold(query.getScoreThreshold())
                .setCalibratedThreshold(calibrated)
                .build();
    }

    /** The model's vector of each exemplar of {@code query}, in order: one encoder call per distinct exemplar image, with all its boxes. */
    public static List<float[]> vectors(MqDetModel model, ExemplarQuery query) {
        Map<ByteBuffer, List<Integer>> byImage = new LinkedHashMap<>();
        List<Exemplar> exemplars = query.getExemplars();
        for (int i = 0; i < exemplars.size(); i++) {
            byImage.computeIfAbsent(exemplars.get(i).getImage().getData(), k -> new ArrayList<>()).add(i);
        }
        float[][] vectors = new float[exemplars.size()][];
        for (Map.Entry<ByteBuffer, List<Integer>> entry : byImage.entrySet()) {
            List<Box> boxes = entry.getValue().stream().map(i -> {
                var b = exemplars.get(i).getBox();
                return new Box(b.getX1(), b.getY1(), b.getX2(), b.getY2());
            }).toList();
            List<float[]> encoded = model.encodeExemplars(ImageSource.copy(entry.getKey()), boxes);
            for (int j = 0; j < boxes.size(); j++) {
                vectors[entry.getValue().get(j)] = encoded.get(j);
            }
        }
        return List.of(vectors);
    }

    private void deadLetter(Origin origin, String key, byte[] value, String stage, Exception error) {
        byte[] keyBytes = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
        DeadLetter letter = DeadLetters.of(origin, keyBytes, value, null, stage, error);
        log.warn("dead letter from {}-{}@{} at {}: {}", origin.topic(), origin.partition(), origin.offset(), stage, letter.getErrorMessage());
        context.forward(new Record<>(keyBytes, letter, System.currentTimeMillis()), DLQ_SINK);
        metrics.deadLetter(stage);
    }
}
