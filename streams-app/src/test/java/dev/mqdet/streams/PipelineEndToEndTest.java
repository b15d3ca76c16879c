package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.events.DeadLetter;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.InlineImage;
import dev.mqdet.inference.eval.EvalSet;
import dev.mqdet.serde.WireFormat;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.Scoring;
import dev.mqdet.streams.scenario.DetectScenario;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import dev.mqdet.testkit.TestImages;
import dev.mqdet.topics.Topics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/** The pipeline end to end on a real broker and registry: detections, live updates, and every kind of bad input. */
@ExtendWith(LocalStackExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PipelineEndToEndTest {

    private static final String QUERY_SET = DetectScenario.QUERY_SET;
    private static final Duration WAIT = Duration.ofMinutes(2);

    private SyntheticWorld world;
    private PipelineClient client;
    private PipelineApp app;
    private DetectScenario scenario;

    @BeforeAll
    void start(LocalStack stack) throws Exception {
        world = TestPipelines.world();
        client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "e2e-");
        client.createTopics(1);
        app = PipelineApp.start(StreamsAppConfig.of(TestPipelines.settings(stack, client, "e2e"))).awaitRunning(Duration.ofSeconds(60));
        // Register the query set: the scenario ContainerPipelineTest runs against the images too.
        scenario = new DetectScenario(world, client, app.model().modelId(), WAIT);
        scenario.registerQuerySet();
    }

    @AfterAll
    void stop() {
        app.close();
        client.close();
    }

    @Test
    void detectsTheRegisteredCategoriesInImageEvents() {
        // One detection event per image event, each event's fields, precision and recall at least 0.8: the shared
        // scenario (DetectScenario), also run against the container images by ContainerPipelineTest.
        Scoring scoring = scenario.detect(12);
        DetectScenario.assertQuality(scoring);
    }

    @Test
    void addingAndDeletingACategoryChangesDetectionsWithoutRestart() {
        EvalSet.Category added = world.categories(List.of(103)).get(0); // a rare species, not in the query set yet
        String addedId = SyntheticWorld.categoryId(added);
        int scene = sceneWith(added.id());

        client.publish(world.imageEvent("before-add", scene, QUERY_SET));
        client.flush();
        assertThat(categoriesIn(awaitDetection("before-add"))).doesNotContain(addedId);

        List<ExemplarQuery> update = world.querySet(QUERY_SET, List.of(added), 5, true, 1);
        client.register(update);
        client.awaitEncoded(app.model().modelId(), update, WAIT);
        client.publish(world.imageEvent("after-add", scene, QUERY_SET));
        client.flush();
        DetectionEvent afterAdd = awaitDetection("after-add");
        assertThat(categoriesIn(afterAdd)).contains(addedId);

        client.deleteCategory(QUERY_SET, addedId);
        client.read(Topics.EXEMPLAR_EMBEDDINGS, r -> r.stream().anyMatch(e -> e.key().endsWith("/" + addedId) && e.value() == null), WAIT);
        // the global store applies the tombstone within moments of it being written
        DetectionEvent afterDelete = null;
        for (int attempt = 0; attempt < 20; attempt++) {
            client.publish(world.imageEvent("after-delete-" + attempt, scene, QUERY_SET));
            client.flush();
            afterDelete = awaitDetection("after-delete-" + attempt);
            if (!categoriesIn(afterDelete).contains(addedId)) {
                break;
            }
        }
        assertThat(categoriesIn(afterDelete)).doesNotContain(addedId);
    }

    @Test
    void everyKindOfBadInputIsDeadLetteredAndTheNextGoodEventIsProcessed() throws IOException {
        byte[] good = Topics.IMAGES.valueSerde(client.registry()).serializer().serialize("x", world.imageEvent("good-after-bad", 0, QUERY_SET));

        ImageEvent corrupt = world.imageEvent("bad-corrupt-image", 0, QUERY_SET);
        corrupt.setImage(new InlineImage(ByteBuffer.wrap("GIF89a-but-not-really".getBytes(StandardCharsets.UTF_8)), "image/png"));
        client.publish(corrupt);
        ImageEvent bomb = world.imageEvent("bad-oversized-image", 0, QUERY_SET);
        bomb.setImage(new InlineImage(ByteBuffer.wrap(TestImages.pngHeaderOnly(60_000, 60_000)), "image/png"));
        client.publish(bomb);
        client.publish(world.imageEvent("bad-unknown-query-set", 0, "no-such-query-set"));
        byte[] wrongMagic = good.clone();
        wrongMagic[0] = 0x7b;
        client.publishRaw("bad-wrong-magic".getBytes(StandardCharsets.UTF_8), wrongMagic);
        byte[] unknownId = good.clone();
        ByteBuffer.wrap(unknownId).putInt(1, 999_999_999);
        client.publishRaw("bad-unknown-schema-id".getBytes(StandardCharsets.UTF_8), unknownId);
        client.publishRaw("bad-missing-fields".getBytes(StandardCharsets.UTF_8), recordMissingRequiredFields());
        client.publish(world.imageEvent("good-after-bad", 0, QUERY_SET));
        client.flush();

        Map<String, String> expectedStages = Map.of(
                "bad-corrupt-image", "decode", "bad-oversized-image", "decode", "bad-unknown-query-set", "join",
                "bad-wrong-magic", "deserialize", "bad-unknown-schema-id", "deserialize", "bad-missing-fields", "deserialize");
        List<ConsumerRecord<String, DeadLetter>> letters = client.deadLetters(
                r -> r.stream().map(ConsumerRecord::key).collect(Collectors.toSet()).containsAll(expectedStages.keySet()), WAIT);
        assertThat(letters).as("dead letters").isNotNull();
        for (ConsumerRecord<String, DeadLetter> record : letters) {
            DeadLetter letter = record.value();
            assertThat(letter.getStage()).as(record.key()).isEqualTo(expectedStages.get(record.key()));
            assertThat(letter.getSourceTopic()).isEqualTo(client.topic(Topics.IMAGES));
            assertThat(letter.getSourceOffset()).isNotNegative();
            assertThat(letter.getOriginalValue()).isNotNull();
            assertThat(letter.getErrorMessage()).isNotBlank();
        }
        Map<String, String> errors = letters.stream().collect(Collectors.toMap(ConsumerRecord::key, r -> r.value().getErrorClass(), (a, b) -> a));
        assertThat(errors).containsEntry("bad-wrong-magic", "dev.mqdet.serde.UnknownMagicByteException")
                .containsEntry("bad-unknown-schema-id", "dev.mqdet.schemaregistry.UnknownSchemaIdException")
                .containsEntry("bad-missing-fields", "dev.mqdet.serde.IncompatibleSchemaException")
                .containsEntry("bad-oversized-image", "dev.mqdet.inference.InferenceException$ImageTooLargeException");
        assertThat(awaitDetection("good-after-bad").getEventId()).isEqualTo("good-after-bad");
    }

    /** An "ImageEvent" from a producer whose schema lacks required fields: registered, framed, but unreadable as ours. */
    private byte[] recordMissingRequiredFields() throws IOException {
        Schema partial = SchemaBuilder.record("ImageEvent").namespace("dev.mqdet.events").fields().requiredString("eventId").endRecord();
        int id = client.registry().register("e2e-foreign-images-value", partial);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(WireFormat.header(id));
        byte[] eventId = "bad-missing-fields".getBytes(StandardCharsets.UTF_8);
        out.write(eventId.length * 2); // Avro zig-zag length
        out.write(eventId);
        return out.toByteArray();
    }

    private DetectionEvent awaitDetection(String eventId) {
        List<ConsumerRecord<String, DetectionEvent>> out = client.detections(r -> r.stream().anyMatch(e -> e.key().equals(eventId)), WAIT);
        assertThat(out).as("detection event for " + eventId).isNotNull();
        return out.stream().filter(e -> e.key().equals(eventId)).findFirst().orElseThrow().value();
    }

    private int sceneWith(int categoryId) {
        for (int i = 0; i < world.evalSet().images().size(); i++) {
            int index = i;
            if (world.truth(index, world.categories(List.of(categoryId))).size() > 0) {
                return index;
            }
        }
        throw new IllegalStateException("no scene shows category " + categoryId);
    }

    private static Set<String> categoriesIn(DetectionEvent event) {
        return event.getDetections().stream().map(d -> d.getCategoryId()).collect(Collectors.toSet());
    }
}
