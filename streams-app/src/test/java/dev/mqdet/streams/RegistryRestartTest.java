package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import dev.mqdet.testkit.RestartableRegistry;
import dev.mqdet.topics.Topics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.JsonProperties;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Fault test (issue 13, point 9b): the schema registry server (Apicurio, H2 file storage, fixed port) is killed while
 * image events are being produced and processed under exactly_once_v2, stays down about ten seconds (five, then its
 * start-up), and is restarted on the same port and storage, so every schema id is what it was.
 *
 * <p>The outage is one the app must notice: from the kill on, the producer writes its events with a second, newer
 * ImageEvent schema (one optional field more, registered before the kill) whose id the app has never fetched, and
 * the first dead letter of the run (a record that is not Avro) comes during the outage, so its DeadLetter schema must
 * be registered then. The app does not dead-letter what it cannot decode for want of the registry: the client's
 * bounded retries end in SchemaRegistryUnavailableException, the stream thread is replaced, the transaction aborted,
 * and the records are read again from the last commit until the registry answers. The replacement thread can
 * start only when the dead one's group membership has timed out ({@code session.timeout.ms}): that, not the
 * registry, sets how long the app stalls after the registry is back: about 45 s at Kafka's default, hence the app's
 * default of 10 s for main.consumer.session.timeout.ms, which this test runs with. A read_committed consumer sees
 * exactly one detection event per good event, and exactly one dead letter, the poison record's.
 */
@ExtendWith(LocalStackExtension.class)
class RegistryRestartTest {

    private static final String QUERY_SET = "registry-restart";

    @Test
    void shouldAnswerEveryEventExactlyOnceWhenTheRegistryIsKilledAndRestartedMidStream(LocalStack stack) throws Exception {
        SyntheticWorld world = TestPipelines.world();
        int events = 80;
        try (RestartableRegistry registry = RestartableRegistry.start(TestPipelines.tempDir("restartable-registry"));
             PipelineClient client = new PipelineClient(stack.bootstrapServers(), registry.url(), "registry-restart-")) {
            client.createTopics(2);
            List<ExemplarQuery> queries = world.querySet(QUERY_SET, world.categories(List.of(91, 101)), 5, true, 1);
            client.register(queries);
            // The newer writer schema, registered now; the app first meets its id during the outage.
            Schema newer = withOptionalField(ImageEvent.getClassSchema(), "producerNote");
            int newerId = client.registry().register(client.topic(Topics.IMAGES) + "-value", newer);

            Map<String, String> settings = TestPipelines.settings(stack, client, "registry-restart");
            settings.put("schema.registry.url", registry.url());
            settings.put(StreamsAppConfig.BATCH_SIZE, "8");
            settings.put(StreamsAppConfig.BATCH_MAX_WAIT_MS, "300");
            try (PipelineApp app = PipelineApp.start(StreamsAppConfig.of(settings))) {
                app.awaitRunning(Duration.ofSeconds(90));
                client.awaitEncoded(app.model().modelId(), queries, Duration.ofMinutes(2));

                List<String> expected = new ArrayList<>();
                for (int i = 0; i < events; i++) {
                    expected.add("registry-restart-" + i);
                }
                String poison = "registry-restart-not-avro";
                expected.add(poison);
                AtomicBoolean down = new AtomicBoolean();
                AtomicInteger publishedNewer = new AtomicInteger();
                // A steady stream, one event every 100 ms (8 s), that goes on through the outage: the producer has
                // both schema ids cached and needs no registry.
                CompletableFuture<Void> producing = CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < events; i++) {
                        ImageEvent event = world.imageEvent(expected.get(i), i, QUERY_SET);
                        if (down.get()) {
                            client.publishRaw(event.getEventId().getBytes(StandardCharsets.UTF_8), newerBytes(event, newer, newerId));
                            if (publishedNewer.incrementAndGet() == 5) {
                                client.publishRaw(poison.getBytes(StandardCharsets.UTF_8), "not avro".getBytes(StandardCharsets.UTF_8));
                            }
                        } else {
                            client.publish(event);
                        }
                        sleep(100);
                    }
                });

                assertThat(client.detections(r -> r.size() >= 5, Duration.ofMinutes(1))).as("first outputs before the kill").isNotNull();
                registry.kill();
                down.set(true);
                assertThat(registry.isRunning()).isFalse();
                sleep(5_000);
                assertThat(producing).as("the producer was still publishing when the registry came back").isNotDone();
                registry.restart();
                producing.join();
                client.flush();
                assertThat(publishedNewer.get()).as("events written with the newer schema").isGreaterThanOrEqualTo(5);

                FaultTests.assertEachAnsweredExactlyOnce(client, expected, Duration.ofMinutes(2));
                assertThat(client.readFor(Topics.IMAGES_DLQ, Duration.ofSeconds(1))).extracting(ConsumerRecord::key)
                        .as("nothing dead-lettered for want of the registry: the one dead letter is the poison record's")
                        .containsExactly(poison);
                assertThat(app.streams().state()).as("the same instance, still running")
                        .isIn(KafkaStreams.State.RUNNING, KafkaStreams.State.REBALANCING);
            }
        }
    }

    /** {@code schema} with one more field, an optional string: a BACKWARD-compatible newer version. */
    private static Schema withOptionalField(Schema schema, String name) {
        List<Schema.Field> fields = new ArrayList<>();
        schema.getFields().forEach(f -> fields.add(new Schema.Field(f, f.schema())));
        fields.add(new Schema.Field(name, Schema.createUnion(Schema.create(Schema.Type.NULL), Schema.create(Schema.Type.STRING)),
                "Set by a newer producer.", JsonProperties.NULL_VALUE));
        return Schema.createRecord(schema.getName(), schema.getDoc(), schema.getNamespace(), false, fields);
    }

    /** The event in the Confluent wire format, written with the newer schema (its id, its extra field set). */
    private static byte[] newerBytes(ImageEvent event, Schema newer, int newerId) {
        try {
            ByteArrayOutputStream v1 = new ByteArrayOutputStream();
            BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(v1, null);
            new SpecificDatumWriter<ImageEvent>(ImageEvent.getClassSchema()).write(event, encoder);
            encoder.flush();
            GenericRecord record = new GenericDatumReader<GenericRecord>(ImageEvent.getClassSchema(), newer)
                    .read(null, DecoderFactory.get().binaryDecoder(v1.toByteArray(), null));
            record.put("producerNote", "written with the newer schema");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(0);
            out.writeBytes(ByteBuffer.allocate(4).putInt(newerId).array());
            encoder = EncoderFactory.get().binaryEncoder(out, encoder);
            new GenericDatumWriter<GenericRecord>(newer).write(record, encoder);
            encoder.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
