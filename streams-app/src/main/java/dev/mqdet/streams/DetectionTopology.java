package dev.mqdet.streams;

import dev.mqdet.events.DeadLetter;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ExemplarEmbedding;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.inference.MqDetModel;
import dev.mqdet.schemaregistry.SchemaRegistryClient;
import dev.mqdet.streams.detect.BatchedDetectionProcessor;
import dev.mqdet.streams.detect.DetectorSettings;
import dev.mqdet.streams.detect.DispatchPolicy;
import dev.mqdet.streams.detect.QuerySets;
import dev.mqdet.streams.detect.ImageSource;
import dev.mqdet.streams.encode.EmbeddingStoreUpdater;
import dev.mqdet.streams.encode.ExemplarEncodingProcessor;
import dev.mqdet.streams.ops.PipelineMetrics;
import dev.mqdet.streams.track.TrackTopology;
import dev.mqdet.topics.Keys;
import dev.mqdet.topics.Topics;
import java.time.Duration;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The pipeline as one Kafka Streams topology, top to bottom:
 *
 * <ol>
 *   <li>{@code exemplar-queries} (one record per category) → exemplar encoder (this instance's model) →
 *       {@code exemplar-embeddings}, keyed {@code modelId/querySetId/categoryId};</li>
 *   <li>{@code exemplar-embeddings} → a global store, so every instance can read every query set by prefix;</li>
 *   <li>{@code images} → batched detector (joins each event with its query set from the global store, buffers in
 *       a changelogged store, runs MQ-Det per batch) → {@code detections};</li>
 *   <li>{@code detections} → regrouped by source → tracker (ByteTrack-style, state per source in a changelogged
 *       store) → {@code tracks}: new / update / end per object;</li>
 *   <li>every failure → a dead-letter topic ({@code images-dlq}, {@code exemplar-queries-dlq}), with the original
 *       bytes and the reason.</li>
 * </ol>
 *
 * Values are read as bytes and decoded inside the processors, so an undecodable record is dead-lettered with
 * its original bytes, topic, partition and offset instead of stopping the stream.
 */
public final class DetectionTopology {

    public static final String EMBEDDINGS_STORE = "exemplar-embeddings-store";

    private DetectionTopology() {}

    public static Topology build(StreamsAppConfig config, MqDetModel model, SchemaRegistryClient registry, PipelineMetrics metrics) {
        return build(config, model, registry, metrics, imageSource(config));
    }

    /** Where image bytes come from, as configured; the caller closes it (it may hold an S3 client). */
    public static ImageSource imageSource(StreamsAppConfig config) {
        return new ImageSource(config.getList(StreamsAppConfig.FETCH_ALLOWED_PREFIXES), config.getInt(StreamsAppConfig.MAX_IMAGE_BYTES),
                Duration.ofMillis(config.getLong(StreamsAppConfig.FETCH_TIMEOUT_MS)), config.s3Settings());
    }

    /** As {@link #build(StreamsAppConfig, MqDetModel, SchemaRegistryClient, PipelineMetrics)} with a given image source. */
    public static Topology build(StreamsAppConfig config, MqDetModel model, SchemaRegistryClient registry, PipelineMetrics metrics,
                                 ImageSource imageSource) {
        // Part of every embedding key: refused here, at start, rather than by the encoder on every record.
        try {
            Keys.requireId("model id", model.modelId());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + "; set \"name\" in " + model.modelPackage().dir().resolve("model.json"), e);
        }
        String queriesTopic = config.get(StreamsAppConfig.TOPIC_EXEMPLAR_QUERIES);
        String embeddingsTopic = config.get(StreamsAppConfig.TOPIC_EXEMPLAR_EMBEDDINGS);
        String imagesTopic = config.get(StreamsAppConfig.TOPIC_IMAGES);
        String detectionsTopic = config.get(StreamsAppConfig.TOPIC_DETECTIONS);
        String dlqTopic = config.get(StreamsAppConfig.TOPIC_DLQ);
        String queriesDlqTopic = config.get(StreamsAppConfig.TOPIC_EXEMPLAR_QUERIES_DLQ);
        Serde<ExemplarQuery> queries = Topics.EXEMPLAR_QUERIES.valueSerde(registry);
        Serde<ExemplarEmbedding> embeddings = Topics.EXEMPLAR_EMBEDDINGS.valueSerde(registry);
        Serde<ImageEvent> images = Topics.IMAGES.valueSerde(registry);
        Serde<DetectionEvent> detections = Topics.DETECTIONS.valueSerde(registry);
        Serde<DeadLetter> deadLetters = Topics.IMAGES_DLQ.valueSerde(registry);

        // One view of the encoded query sets for every task: rebuilt per query set when the global store changes.
        QuerySets querySets = new QuerySets(model.modelId(), config.getLong(StreamsAppConfig.QUERY_SET_CACHE_VECTORS));

        // 5. Tracks, declared first: the regrouping by source is a DSL repartition, and the DSL is built into the
        // topology before the Processor-API steps 1 to 4 are added to it.
        StreamsBuilder builder = new StreamsBuilder();
        if (config.getBoolean(StreamsAppConfig.TRACKS_ENABLED)) {
            TrackTopology.add(builder, detectionsTopic, config.get(StreamsAppConfig.TOPIC_TRACKS), TrackTopology.settings(config),
                    detections, Topics.TRACKS.valueSerde(registry), metrics);
        }
        Topology topology = builder.build();

        // 1. What to look for: encode each category's exemplars for this model.
        topology.addSource("exemplar-queries-source", Serdes.String().deserializer(), Serdes.ByteArray().deserializer(), queriesTopic);
        topology.addProcessor("exemplar-encoder",
                () -> new ExemplarEncodingProcessor(model, queries.deserializer(), EMBEDDINGS_STORE, metrics,
                        config.getBoolean(StreamsAppConfig.CALIBRATION_ENABLED)), "exemplar-queries-source");
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(ExemplarEncodingProcessor.QUERIES_STORE),
                Serdes.String(), Serdes.ByteArray()), "exemplar-encoder");
        topology.addSink(ExemplarEncodingProcessor.EMBEDDINGS_SINK, embeddingsTopic,
                Serdes.String().serializer(), embeddings.serializer(), "exemplar-encoder");
        topology.addSink(ExemplarEncodingProcessor.DLQ_SINK, queriesDlqTopic,
                Serdes.ByteArray().serializer(), deadLetters.serializer(), "exemplar-encoder");

        // 2. Every encoded query set, readable by every instance.
        topology.addGlobalStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(EMBEDDINGS_STORE),
                        Serdes.String(), embeddings).withLoggingDisabled(),
                "exemplar-embeddings-source", Serdes.String().deserializer(), Serdes.ByteArray().deserializer(), embeddingsTopic,
                "exemplar-embeddings-updater", () -> new EmbeddingStoreUpdater(EMBEDDINGS_STORE, querySets, embeddings.deserializer(), metrics));

        // 3. Images: buffer, join with the query set, detect in batches.
        DetectorSettings detector = DetectorSettings.builder()
                .optModel(model)
                .optImages(images.deserializer())
                .optImageSource(imageSource)
                .optQuerySets(querySets)
                .optMetrics(metrics)
                .optBatchSize(config.getInt(StreamsAppConfig.BATCH_SIZE))
                .optMaxWaitMs(config.getLong(StreamsAppConfig.BATCH_MAX_WAIT_MS))
                .optDispatch(DispatchPolicy.Mode.parse(config.get(StreamsAppConfig.BATCH_DISPATCH)))
                .optPipelined(config.getBoolean(StreamsAppConfig.BATCH_PIPELINED))
                .optCommitOnAnswer(config.getBoolean(StreamsAppConfig.BATCH_COMMIT_ON_ANSWER))
                .optMaxStreamThreadBlockMs(config.getLong(StreamsAppConfig.BATCH_MAX_BLOCK_MS))
                .optUnknownQuerySetWaitMs(config.getLong(StreamsAppConfig.UNKNOWN_QUERY_SET_WAIT_MS))
                .optMaxWaitingForQuerySet(config.getInt(StreamsAppConfig.MAX_WAITING_FOR_QUERY_SET))
                .optMaxConcurrentDecodes(config.getInt(StreamsAppConfig.DECODE_MAX_CONCURRENT))
                .optBufferCaps(config.getInt(StreamsAppConfig.BUFFER_MAX_EVENTS), config.getLong(StreamsAppConfig.BUFFER_MAX_BYTES))
                .optMaxCategories(config.getInt(StreamsAppConfig.MAX_CATEGORIES))
                .build();
        topology.addSource("images-source", Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(), imagesTopic);
        topology.addProcessor("batched-detector", () -> new BatchedDetectionProcessor(detector, EMBEDDINGS_STORE), "images-source");
        // In memory, backed by its changelog: it only ever holds the events of the batches being formed, so
        // RocksDB's write path buys nothing here, and a restart restores it from the changelog all the same.
        // Cached: Kafka Streams flushes the cache to the changelog before every commit, so a buffered event is
        // durable before its input offset is; an event put and answered between two commits reaches the
        // changelog only as a small tombstone, not as a second copy of its image bytes.
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(BatchedDetectionProcessor.BUFFER_STORE),
                Serdes.Bytes(), Serdes.ByteArray()).withCachingEnabled(), "batched-detector"); // layout: BufferedImageEvent

        // 4. Outputs.
        topology.addSink(BatchedDetectionProcessor.DETECTIONS_SINK, detectionsTopic,
                Serdes.String().serializer(), detections.serializer(), "batched-detector");
        topology.addSink(BatchedDetectionProcessor.DLQ_SINK, dlqTopic,
                Serdes.ByteArray().serializer(), deadLetters.serializer(), "batched-detector");
        return topology;
    }
}
