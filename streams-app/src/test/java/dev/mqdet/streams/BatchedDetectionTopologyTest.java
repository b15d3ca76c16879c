package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.events.DeadLetter;
import dev.mqdet.events.Detection;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.Exemplar;
import dev.mqdet.events.ExemplarEmbedding;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.inference.ModelPackage;
import dev.mqdet.inference.MqDetModel;
import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.schemaregistry.SchemaRegistryClient;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.streams.ops.PipelineMetrics;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import dev.mqdet.topics.Keys;
import dev.mqdet.topics.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/** Fast unit tests of the topology on TopologyTestDriver (real model, real registry; no broker): batching, waiting, dead letters. */
@ExtendWith(LocalStackExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BatchedDetectionTopologyTest {

    private static final int BATCH = 4;
    private static final long MAX_WAIT_MS = 500;
    private static final long UNKNOWN_WAIT_MS = 2_000;

    private MqDetModel model;
    private SchemaRegistryClient registry;
    private SyntheticWorld world;
    private TopologyTestDriver driver;
    private SimpleMeterRegistry meters;
    private TestInputTopic<String, ExemplarQuery> queries;
    private TestInputTopic<String, byte[]> images;
    private TestOutputTopic<String, DetectionEvent> detections;
    private TestOutputTopic<byte[], DeadLetter> deadLetters;
    private TestOutputTopic<String, ExemplarEmbedding> embeddings;
    private Serializer<dev.mqdet.events.ImageEvent> imageSerializer;

    @BeforeAll
    void loadModel(LocalStack stack) {
        model = MqDetModel.load(ModelPackage.load(Path.of(TestPipelines.modelDir())), MqDetModel.Options.builder().optPoolSize(2).build());
        registry = new RestSchemaRegistryClient(Map.of("schema.registry.url", stack.schemaRegistryUrl()));
        world = TestPipelines.world();
        imageSerializer = Topics.IMAGES.valueSerde(registry).serializer();
    }

    @AfterAll
    void closeModel() {
        model.close();
    }

    @BeforeEach
    void startDriver() {
        // The driver is single-threaded and deterministic: inference on the stream thread. The pipelined mode
        // (the default) runs in the pipelined tests below and every test against the real broker. The batching
        // tests use the fill policy (a batch waits until full or timed out); the eager tests say so.
        startDriver(false, "fill");
    }

    private void startDriver(boolean pipelined, String dispatch) {
        startDriver(pipelined, dispatch, Map.of());
    }

    private void startDriver(boolean pipelined, String dispatch, Map<String, String> extra) {
        Map<String, String> settings = new HashMap<>(extra);
        settings.put(StreamsAppConfig.BATCH_DISPATCH, dispatch);
        settings.put(StreamsAppConfig.FETCH_ALLOWED_PREFIXES, "file:" + TestPipelines.repoRoot().resolve("models/synth-eval") + "/");
        settings.put(StreamsAppConfig.BATCH_SIZE, Integer.toString(BATCH));
        settings.put(StreamsAppConfig.BATCH_MAX_WAIT_MS, Long.toString(MAX_WAIT_MS));
        settings.put(StreamsAppConfig.UNKNOWN_QUERY_SET_WAIT_MS, Long.toString(UNKNOWN_WAIT_MS));
        settings.put(StreamsAppConfig.BATCH_PIPELINED, Boolean.toString(pipelined));
        StreamsAppConfig config = StreamsAppConfig.of(settings);
        Properties props = new Properties();
        props.put("application.id", "topology-test");
        props.put("bootstrap.servers", "unused:9092");
        props.put("state.dir", TestPipelines.tempDir("ttd").toString());
        meters = new SimpleMeterRegistry();
        driver = new TopologyTestDriver(DetectionTopology.build(config, model, registry, new PipelineMetrics(meters)),
                props, Instant.parse("2026-11-27T00:00:00Z"));
        queries = driver.createInputTopic("exemplar-queries", new StringSerializer(), Topics.EXEMPLAR_QUERIES.valueSerde(registry).serializer());
        images = driver.createInputTopic("images", new StringSerializer(), new ByteArraySerializer());
        detections = driver.createOutputTopic("detections", new StringDeserializer(), Topics.DETECTIONS.valueSerde(registry).deserializer());
        deadLetters = driver.createOutputTopic("images-dlq", new ByteArrayDeserializer(), Topics.IMAGES_DLQ.valueSerde(registry).deserializer());
        embeddings = driver.createOutputTopic("exemplar-embeddings", new StringDeserializer(), Topics.EXEMPLAR_EMBEDDINGS.valueSerde(registry).deserializer());
    }

    @AfterEach
    void closeDriver() {
        driver.close();
    }

    @Test
    void exemplarQueriesAreEncodedForThisModelAndTombstonesPropagate() {
        register("qs");
        List<org.apache.kafka.streams.test.TestRecord<String, ExemplarEmbedding>> encoded = embeddings.readRecordsToList();
        assertThat(encoded).hasSize(2);
        ExemplarEmbedding first = encoded.get(0).value();
        assertThat(encoded.get(0).key()).isEqualTo(Keys.embedding(model.modelId(), "qs", first.getCategoryId()));
        assertThat(first.getExemplars()).hasSize(5);
        assertThat(first.getDimension()).isEqualTo(model.modelPackage().featureDim());
        assertThat(first.getExemplars().get(0).getVector()).hasSize(model.modelPackage().featureDim());
        queries.pipeInput(Keys.query("qs", first.getCategoryId()), null);
        var tombstone = embeddings.readRecord();
        assertThat(tombstone.key()).isEqualTo(encoded.get(0).key());
        assertThat(tombstone.value()).isNull();
    }

    @Test
    void aFullBatchRunsAtOnce() {
        register("qs");
        for (int i = 0; i < BATCH; i++) {
            pipeImage("full-" + i, i, "qs");
        }
        List<DetectionEvent> out = detections.readValuesToList();
        assertThat(out).extracting(DetectionEvent::getEventId).containsExactly("full-0", "full-1", "full-2", "full-3");
        assertThat(out).allSatisfy(e -> assertThat(e.getTimings().getBatchSize()).isEqualTo(BATCH));
    }

    @Test
    void aPartialBatchWaitsForTheMaximumWait() {
        register("qs");
        pipeImage("partial-0", 0, "qs");
        pipeImage("partial-1", 1, "qs");
        assertThat(detections.isEmpty()).isTrue();
        driver.advanceWallClockTime(Duration.ofMillis(MAX_WAIT_MS / 2));
        assertThat(detections.isEmpty()).isTrue();
        driver.advanceWallClockTime(Duration.ofMillis(MAX_WAIT_MS));
        List<DetectionEvent> out = detections.readValuesToList();
        assertThat(out).extracting(DetectionEvent::getEventId).containsExactly("partial-0", "partial-1");
        assertThat(out).allSatisfy(e -> assertThat(e.getTimings().getBatchSize()).isEqualTo(2));
    }

    @Test
    void anEventWaitsForItsQuerySetThenIsDetected() {
        pipeImage("early", 0, "late-qs");
        driver.advanceWallClockTime(Duration.ofMillis(MAX_WAIT_MS * 2));
        assertThat(detections.isEmpty()).isTrue();
        assertThat(deadLetters.isEmpty()).isTrue();
        register("late-qs");
        driver.advanceWallClockTime(Duration.ofMillis(MAX_WAIT_MS));
        assertThat(detections.readValuesToList()).extracting(DetectionEvent::getEventId).containsExactly("early");
    }

    @Test
    void anUnknownQuerySetIsDeadLetteredAfterTheWait() {
        pipeImage("orphan", 0, "never-registered");
        driver.advanceWallClockTime(Duration.ofMillis(UNKNOWN_WAIT_MS + MAX_WAIT_MS));
        DeadLetter letter = deadLetters.readValue();
        assertThat(letter.getStage()).isEqualTo("join");
        assertThat(letter.getEventId()).isEqualTo("orphan");
        assertThat(letter.getErrorMessage()).contains("never-registered");
        assertThat(detections.isEmpty()).isTrue();
    }

    @Test
    void undecodableBytesAreDeadLetteredWithTheirOrigin() {
        register("qs");
        images.pipeInput("junk", "not avro".getBytes(StandardCharsets.UTF_8));
        pipeImage("fine", 0, "qs");
        driver.advanceWallClockTime(Duration.ofMillis(MAX_WAIT_MS * 2));
        DeadLetter letter = deadLetters.readValue();
        assertThat(letter.getStage()).isEqualTo("deserialize");
        assertThat(letter.getSourceTopic()).isEqualTo("images");
        assertThat(letter.getSourceOffset()).isZero();
        assertThat(new String(letter.getOriginalValue().array(), StandardCharsets.UTF_8)).isEqualTo("not avro");
        assertThat(letter.getErrorClass()).isEqualTo("dev.mqdet.serde.UnknownMagicByteException");
        assertThat(detections.readValuesToList()).extracting(DetectionEvent::getEventId).containsExactly("fine");
    }

    @Test
    void pipelinedBatchesAnswerEveryEventOnceInArrivalOrder() throws InterruptedException {
        driver.close();
        startDriver(true, "fill"); // two predictors: up to three batches of the task in flight at once
        register("qs");
        List<String> sent = new java.util.ArrayList<>();
        for (int i = 0; i < 3 * BATCH + 1; i++) { // three full batches and one event of a partial one
            sent.add("piped-" + i);
            pipeImage("piped-" + i, i, "qs");
        }
        // Results are forwarded by the stream thread on its next record or tick; the driver's ticks follow its clock.
        List<DetectionEvent> out = new java.util.ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (out.size() < sent.size() && System.nanoTime() < deadline) {
            Thread.sleep(20);
            driver.advanceWallClockTime(Duration.ofMillis(MAX_WAIT_MS));
            out.addAll(detections.readValuesToList());
        }
        assertThat(out).extracting(DetectionEvent::getEventId).containsExactlyElementsOf(sent);
        assertThat(out.subList(0, 3 * BATCH)).allSatisfy(e -> assertThat(e.getTimings().getBatchSize()).isEqualTo(BATCH));
        assertThat(deadLetters.isEmpty()).isTrue();
    }

    @Test
    void anIdleModelTakesASingleEventAtOnce() {
        driver.close();
        startDriver(false, "eager");
        register("qs");
        pipeImage("alone", 0, "qs");
        // No clock advanced: the model was free, so the event did not wait for a batch to fill.
        DetectionEvent out = detections.readValue();
        assertThat(out.getEventId()).isEqualTo("alone");
        assertThat(out.getTimings().getBatchSize()).isEqualTo(1);
        assertThat(out.getTimings().getBatchWaitMs()).isZero();
    }

    @Test
    void eagerBatchesFillWhileEveryPredictorIsBusy() throws InterruptedException {
        driver.close();
        startDriver(true, "eager");
        register("qs");
        List<String> sent = new java.util.ArrayList<>();
        for (int i = 0; i < 6 * BATCH; i++) { // far faster than two predictors answer: most events find both busy
            sent.add("burst-" + i);
            pipeImage("burst-" + i, i, "qs");
        }
        List<DetectionEvent> out = awaitDetections(sent.size());
        assertThat(out).extracting(DetectionEvent::getEventId).containsExactlyElementsOf(sent);
        assertThat(out.get(0).getTimings().getBatchSize()).isEqualTo(1); // the first found an idle model
        assertThat(out).anySatisfy(e -> assertThat(e.getTimings().getBatchSize()).isGreaterThan(1));
        assertThat(deadLetters.isEmpty()).isTrue();
    }

    @Test
    void invalidEventIdsAreDeadLetteredAtValidate() {
        register("qs");
        for (String id : List.of("", "two\r\nlines", "nul\u0000", "bidi\u202eevil", "   ")) {
            images.pipeInput("k", imageSerializer.serialize("images", world.imageEvent(id, 0, "qs")));
        }
        pipeImage("fine", 0, "qs");
        driver.advanceWallClockTime(Duration.ofMillis(MAX_WAIT_MS * 2));
        List<DeadLetter> letters = deadLetters.readValuesToList();
        assertThat(letters).hasSize(5).allSatisfy(letter -> {
            assertThat(letter.getStage()).isEqualTo("validate");
            assertThat(letter.getErrorClass()).endsWith("InvalidImageEventException");
            assertThat(letter.getErrorMessage()).contains("eventId");
        });
        assertThat(detections.readValuesToList()).extracting(DetectionEvent::getEventId).containsExactly("fine");
    }

    @Test
    void aPoisonImageUriIsDeadLetteredAndTheNextEventsGoOn() {
        register("qs");
        // Under an allowed prefix, but Path.of(URI) refuses a file: URI with a query: this used to fail the job,
        // replace the stream thread and retry the same batch forever.
        String allowed = "file:" + TestPipelines.repoRoot().resolve("models/synth-eval") + "/";
        dev.mqdet.events.ImageEvent poison = world.imageEvent("poison", 0, "qs");
        poison.setImage(new dev.mqdet.events.ImageReference(allowed + "images/x.png?query=1", "image/png"));
        pipeImage("before", 1, "qs");
        images.pipeInput("poison", imageSerializer.serialize("images", poison));
        pipeImage("after", 2, "qs");
        driver.advanceWallClockTime(Duration.ofMillis(MAX_WAIT_MS * 2));
        DeadLetter letter = deadLetters.readValue();
        assertThat(letter.getEventId()).isEqualTo("poison");
        assertThat(letter.getStage()).isEqualTo("fetch");
        assertThat(detections.readValuesToList()).extracting(DetectionEvent::getEventId).containsExactly("before", "after");
    }

    @Test
    void exemplarQueryFailuresGoToTheirOwnDeadLetterTopic() {
        var queriesDlq = driver.createOutputTopic("exemplar-queries-dlq", new ByteArrayDeserializer(), Topics.EXEMPLAR_QUERIES_DLQ.valueSerde(registry).deserializer());
        driver.createInputTopic("exemplar-queries", new StringSerializer(), new ByteArraySerializer())
                .pipeInput("qs/broken", "not avro".getBytes(StandardCharsets.UTF_8));
        DeadLetter letter = queriesDlq.readValue();
        assertThat(letter.getSourceTopic()).isEqualTo("exemplar-queries");
        assertThat(letter.getStage()).isEqualTo("deserialize");
        assertThat(deadLetters.isEmpty()).isTrue();
    }

    @Test
    void aCategoryWithMoreExemplarsThanTheModelTakesIsRefusedOnceAtEncoding() {
        var queriesDlq = driver.createOutputTopic("exemplar-queries-dlq", new ByteArrayDeserializer(), Topics.EXEMPLAR_QUERIES_DLQ.valueSerde(registry).deserializer());
        ExemplarQuery query = world.querySet("big", world.categories(List.of(91)), 5, true, 1).get(0);
        List<Exemplar> exemplars = new ArrayList<>(query.getExemplars());
        for (int i = 0; exemplars.size() <= model.modelPackage().maxExemplars(); i++) {
            exemplars.add(Exemplar.newBuilder(exemplars.get(i)).setExemplarId("extra-" + i).build());
        }
        query.setExemplars(exemplars);
        queries.pipeInput(Keys.query("big", query.getCategoryId()), query);

        DeadLetter letter = queriesDlq.readValue();
        assertThat(letter.getStage()).isEqualTo("encode");
        assertThat(letter.getErrorMessage()).contains("6 exemplars").contains("at most " + model.modelPackage().maxExemplars());
        assertThat(embeddings.isEmpty()).as("nothing encoded that every event would then fail on").isTrue();
    }

    @Test
    void aCategorysOwnScoreThresholdWinsOverTheDefaultAndEachDetectionSaysWhichItRanWith() {
        register("plain");
        List<ExemplarQuery> strict = world.querySet("strict", world.categories(List.of(91, 101)), 5, true, 1);
        strict.get(1).setScoreThreshold(1.0f); // no score is above 1: the category is never reported
        strict.forEach(q -> queries.pipeInput(Keys.query(q.getQuerySetId(), q.getCategoryId()), q));
        for (int scene = 0; scene < BATCH; scene++) {
            pipeImage("plain-" + scene, scene, "plain");
            pipeImage("strict-" + scene, scene, "strict");
        }
        driver.advanceWallClockTime(Duration.ofMillis(MAX_WAIT_MS));
        List<DetectionEvent> out = detections.readValuesToList();
        String overridden = strict.get(1).getCategoryId();
        List<Detection> plain = out.stream().filter(e -> e.getQuerySetId().equals("plain")).flatMap(e -> e.getDetections().stream()).toList();
        List<Detection> strictFound = out.stream().filter(e -> e.getQuerySetId().equals("strict")).flatMap(e -> e.getDetections().stream()).toList();

        assertThat(plain).filteredOn(d -> d.getCategoryId().equals(overridden)).as("found at the default").isNotEmpty();
        assertThat(plain).allSatisfy(d -> assertThat(d.getThreshold()).as("the threshold it ran with").isNotNull().isLessThan(d.getScore()));
        assertThat(strictFound).filteredOn(d -> d.getCategoryId().equals(overridden)).isEmpty();
        assertThat(strictFound).as("the other category is unchanged")
                .hasSameSizeAs(plain.stream().filter(d -> !d.getCategoryId().equals(overridden)).toList());
    }

    @Test
    void aCategoryIsCalibratedFromItsOwnExemplarsWhenEncodedAndDetectsWithThatThreshold() {
        register("calibrated");
        List<ExemplarEmbedding> encoded = embeddings.readValuesToList();
        assertThat(encoded).extracting(ExemplarEmbedding::getCalibratedThreshold).as("5 exemplars each: leave-one-out on each")
                .anySatisfy(t -> assertThat(t).isNotNull().isBetween(0.05f, 0.9f));
        for (int scene = 0; scene < BATCH; scene++) {
            pipeImage("cal-" + scene, scene, "calibrated");
        }
        driver.advanceWallClockTime(Duration.ofMillis(MAX_WAIT_MS));
        java.util.Map<String, Float> thresholds = new java.util.HashMap<>();
        // never below the default (0.3 here): calibration only raises a category's cut
        encoded.forEach(e -> thresholds.put(e.getCategoryId(), e.getCalibratedThreshold() != null ? Math.max(0.3f, e.getCalibratedThreshold()) : 0.3f));
        List<Detection> found = detections.readValuesToList().stream().flatMap(e -> e.getDetections().stream()).toList();
        assertThat(found).isNotEmpty().allSatisfy(d -> assertThat(d.getThreshold()).isEqualTo(thresholds.get(d.getCategoryId())));
    }

    @Test
    void aScoreThresholdOutsideZeroToOneIsRefusedAtEncoding() {
        var queriesDlq = driver.createOutputTopic("exemplar-queries-dlq", new ByteArrayDeserializer(), Topics.EXEMPLAR_QUERIES_DLQ.valueSerde(registry).deserializer());
        ExemplarQuery query = world.querySet("bad", world.categories(List.of(91)), 1, true, 1).get(0);
        query.setScoreThreshold(1.5f);
        queries.pipeInput(Keys.query("bad", query.getCategoryId()), query);
        assertThat(queriesDlq.readValue().getErrorMessage()).contains("score threshold 1.5");
        assertThat(embeddings.isEmpty()).isTrue();
    }

    @Test
    void eventsOverTheBufferedEventsCapAreDeadLetteredAndTheRestGoOn() {
        driver.close();
        startDriver(false, "fill", Map.of(StreamsAppConfig.BUFFER_MAX_EVENTS, "3"));
        for (int i = 0; i < 5; i++) {
            pipeImage("capped-" + i, i, "late-qs"); // all wait for their query set
        }
        List<DeadLetter> letters = deadLetters.readValuesToList();
        assertThat(letters).extracting(DeadLetter::getEventId).containsExactly("capped-3", "capped-4");
        assertThat(letters).allSatisfy(letter -> {
            assertThat(letter.getStage()).isEqualTo("buffer");
            assertThat(letter.getErrorMessage()).contains("mqdet.buffer.max-events 3");
        });
        register("late-qs");
        driver.advanceWallClockTime(Duration.ofMillis(MAX_WAIT_MS * 2));
        assertThat(detections.readValuesToList()).extracting(DetectionEvent::getEventId).containsExactly("capped-0", "capped-1", "capped-2");
        pipeImage("capped-5", 5, "late-qs"); // answered events gave their room back
        driver.advanceWallClockTime(Duration.ofMillis(MAX_WAIT_MS * 2));
        assertThat(detections.readValuesToList()).extracting(DetectionEvent::getEventId).containsExactly("capped-5");
        assertThat(deadLetters.isEmpty()).isTrue();
    }

    @Test
    void anEventOverTheBufferedBytesCapIsDeadLettered() {
        long size = "bytes-0".length() + imageSerializer.serialize("images", world.imageEvent("bytes-0", 0, "late-qs")).length;
        driver.close();
        startDriver(false, "fill", Map.of(StreamsAppConfig.BUFFER_MAX_BYTES, Long.toString(2 * size + size / 2)));
        for (int i = 0; i < 3; i++) {
            pipeImage("bytes-" + i, 0, "late-qs");
        }
        DeadLetter letter = deadLetters.readValue();
        assertThat(letter.getEventId()).isEqualTo("bytes-2");
        assertThat(letter.getStage()).isEqualTo("buffer");
        assertThat(letter.getErrorMessage()).contains("mqdet.buffer.max-bytes");
        assertThat(deadLetters.isEmpty()).isTrue();
    }

    @Test
    void anUndecodableEmbeddingIsSkippedAndCountedNotFatal() {
        driver.createInputTopic("exemplar-embeddings", new StringSerializer(), new ByteArraySerializer())
                .pipeInput(Keys.embedding(model.modelId(), "qs", "broken"), "not avro".getBytes(StandardCharsets.UTF_8));
        assertThat(meters.counter("mqdet.exemplar.embeddings.skipped").count()).isEqualTo(1.0);
        register("qs");
        for (int i = 0; i < BATCH; i++) {
            pipeImage("after-" + i, i, "qs");
        }
        assertThat(detections.readValuesToList()).as("the store and the detector keep working").hasSize(BATCH);
    }

    private List<DetectionEvent> awaitDetections(int count) throws InterruptedException {
        // Results are forwarded by the stream thread on its next record or tick; the driver's ticks follow its clock.
        List<DetectionEvent> out = new java.util.ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (out.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(20);
            driver.advanceWallClockTime(Duration.ofMillis(20));
            out.addAll(detections.readValuesToList());
        }
        return out;
    }

    private void register(String querySetId) {
        for (ExemplarQuery query : world.querySet(querySetId, world.categories(List.of(91, 101)), 5, true, 1)) {
            queries.pipeInput(Keys.query(query.getQuerySetId(), query.getCategoryId()), query);
        }
    }

    private void pipeImage(String eventId, int scene, String querySetId) {
        images.pipeInput(eventId, imageSerializer.serialize("images", world.imageEvent(eventId, scene, querySetId)));
    }
}
