package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.events.DeadLetter;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.ImageReference;
import dev.mqdet.events.InlineImage;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import dev.mqdet.testkit.TestImages;
import dev.mqdet.topics.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Serializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Fault test (issue 13, point 9d): one poison record of each kind, mixed into a stream of good image events on a
 * real broker and registry. A read_committed consumer sees exactly one dead letter per poison record, on the images
 * dead-letter topic with the stage that refused it, and exactly one detection event per good event.
 */
@ExtendWith(LocalStackExtension.class)
class PoisonRecordsTest {

    private static final String QUERY_SET = "poison";

    @Test
    void shouldDeadLetterEachPoisonRecordOnceWithItsStageAndAnswerEveryGoodEventOnce(LocalStack stack) throws Exception {
        SyntheticWorld world = TestPipelines.world();
        Path allowed = TestPipelines.tempDir("poison-allowed");
        Path outside = TestPipelines.tempDir("poison-outside");
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "poison-")) {
            client.createTopics(2);
            List<ExemplarQuery> queries = world.querySet(QUERY_SET, world.categories(List.of(91, 101)), 5, true, 1);
            client.register(queries);
            Map<String, String> settings = TestPipelines.settings(stack, client, "poison");
            settings.put(StreamsAppConfig.BATCH_SIZE, "8");
            settings.put(StreamsAppConfig.BATCH_MAX_WAIT_MS, "200"); // poison and good events share batches
            settings.put(StreamsAppConfig.UNKNOWN_QUERY_SET_WAIT_MS, "300");
            settings.put(StreamsAppConfig.FETCH_ALLOWED_PREFIXES, "file:" + allowed + "/");
            Serializer<ImageEvent> avro = Topics.IMAGES.valueSerde(client.registry()).serializer();

            ByteBuffer inline = ((InlineImage) world.imageEvent("scene", 0, QUERY_SET).getImage()).getData();
            byte[] png = new byte[inline.remaining()];
            inline.get(png);
            Files.write(allowed.resolve("scene.png"), png);
            Files.write(outside.resolve("scene.png"), png);

            // key -> the stage of its dead letter, or null for a good event (one detection event)
            Map<String, String> expected = new LinkedHashMap<>();
            Map<String, byte[]> records = new LinkedHashMap<>();
            for (int i = 0; i < 12; i++) {
                String id = "good-" + i;
                expected.put(id, null);
                records.put(id, avro.serialize("", world.imageEvent(id, i, QUERY_SET)));
            }
            expected.put("good-by-reference", null);
            records.put("good-by-reference", avro.serialize("", reference(world, "good-by-reference", "file:" + allowed + "/scene.png")));

            poison(expected, records, "poison-not-avro", "unknown magic byte", "deserialize", "{\"eventId\":\"json, not Avro\"}".getBytes(StandardCharsets.UTF_8));
            poison(expected, records, "poison-unknown-query-set", "no-such-query-set", "join", avro.serialize("", world.imageEvent("poison-unknown-query-set", 1, "no-such-query-set")));
            poison(expected, records, "poison-empty-event-id", "eventId is empty", "validate", avro.serialize("", world.imageEvent("", 2, QUERY_SET)));
            poison(expected, records, "poison-crlf-event-id", "U+000D", "validate", avro.serialize("", world.imageEvent("forged\r\nINFO all good", 3, QUERY_SET)));
            poison(expected, records, "poison-bidi-event-id", "U+202E", "validate", avro.serialize("", world.imageEvent("cam\u202Egnp.exe", 4, QUERY_SET)));
            poison(expected, records, "poison-file-uri-query", "query or fragment", "fetch",
                    avro.serialize("", reference(world, "poison-file-uri-query", "file:" + allowed + "/scene.png?raw=1")));
            poison(expected, records, "poison-file-uri-dot-dot", "'..' segment", "fetch",
                    avro.serialize("", reference(world, "poison-file-uri-dot-dot", "file:" + allowed + "/%2e%2e/" + outside.getFileName() + "/scene.png")));
            poison(expected, records, "poison-file-uri-outside", "not under an allowed prefix", "fetch",
                    avro.serialize("", reference(world, "poison-file-uri-outside", "file:" + outside + "/scene.png")));
            poison(expected, records, "poison-corrupt-image", "neither JPEG nor PNG", "decode",
                    avro.serialize("", inline(world, "poison-corrupt-image", "GIF89a-but-not-really".getBytes(StandardCharsets.UTF_8))));
            poison(expected, records, "poison-oversized-image", "refused before decoding", "decode",
                    avro.serialize("", inline(world, "poison-oversized-image", TestImages.pngHeaderOnly(60_000, 60_000))));

            try (PipelineApp app = PipelineApp.start(StreamsAppConfig.of(settings))) {
                app.awaitRunning(Duration.ofSeconds(90));
                client.awaitEncoded(app.model().modelId(), queries, Duration.ofMinutes(2));
                // Interleaved: each poison record lands between good events, in the same partitions and batches.
                List<String> keys = new ArrayList<>(records.keySet());
                List<String> good = keys.stream().filter(k -> expected.get(k) == null).toList();
                List<String> bad = keys.stream().filter(k -> expected.get(k) != null).toList();
                for (int i = 0; i < Math.max(good.size(), bad.size()); i++) {
                    if (i < good.size()) {
                        client.publishRaw(good.get(i).getBytes(StandardCharsets.UTF_8), records.get(good.get(i)));
                    }
                    if (i < bad.size()) {
                        client.publishRaw(bad.get(i).getBytes(StandardCharsets.UTF_8), records.get(bad.get(i)));
                    }
                }
                client.flush();

                long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
                List<ConsumerRecord<String, DetectionEvent>> detections;
                List<ConsumerRecord<String, DeadLetter>> letters;
                do {
                    detections = client.readFor(Topics.DETECTIONS, Duration.ofSeconds(1));
                    letters = client.readFor(Topics.IMAGES_DLQ, Duration.ofSeconds(1));
                } while (detections.size() + letters.size() < expected.size() && System.nanoTime() < deadline);
                Thread.sleep(500); // anything doubled would be committed by now
                detections = client.readFor(Topics.DETECTIONS, Duration.ofSeconds(1));
                letters = client.readFor(Topics.IMAGES_DLQ, Duration.ofSeconds(1));

                assertThat(detections).extracting(ConsumerRecord::key).as("one detection event per good event")
                        .containsExactlyInAnyOrderElementsOf(good);
                Map<String, String> stages = new HashMap<>();
                for (ConsumerRecord<String, DeadLetter> letter : letters) {
                    assertThat(stages.put(letter.key(), letter.value().getStage())).as("a second dead letter for %s", letter.key()).isNull();
                    assertThat(letter.value().getSourceTopic()).isEqualTo(client.topic(Topics.IMAGES));
                    assertThat(letter.value().getOriginalValue()).as("original bytes of %s", letter.key())
                            .isEqualTo(ByteBuffer.wrap(records.get(letter.key())));
                    assertThat(letter.value().getErrorMessage()).as("why %s was refused", letter.key()).contains(reasons.get(letter.key()));
                }
                Map<String, String> expectedStages = new HashMap<>(expected);
                expectedStages.values().removeIf(v -> v == null);
                assertThat(stages).as("one dead letter per poison record, with its stage").isEqualTo(expectedStages);
            }
        }
    }

    private final Map<String, String> reasons = new HashMap<>();

    private void poison(Map<String, String> expected, Map<String, byte[]> records, String key, String reason, String stage, byte[] value) {
        expected.put(key, stage);
        reasons.put(key, reason);
        records.put(key, value);
    }

    private static ImageEvent reference(SyntheticWorld world, String eventId, String uri) {
        ImageEvent event = world.imageEvent(eventId, 0, QUERY_SET);
        event.setImage(new ImageReference(uri, null));
        return event;
    }

    private static ImageEvent inline(SyntheticWorld world, String eventId, byte[] bytes) {
        ImageEvent event = world.imageEvent(eventId, 0, QUERY_SET);
        event.setImage(new InlineImage(ByteBuffer.wrap(bytes), "image/png"));
        return event;
    }
}
