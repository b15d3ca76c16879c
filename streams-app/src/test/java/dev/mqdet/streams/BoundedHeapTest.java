package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.events.DeadLetter;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.InlineImage;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An instance with a 320 MB heap is sent 120 images of about 0.8 MB each for a query set that is not registered
 * yet, so every one of them waits in its buffer: unbounded, that is over 100 MB of events held several times over
 * and the instance runs out of memory. With the buffer capped at 48 MB it keeps what fits, dead-letters the rest
 * (stage {@code buffer}) and, once the query set arrives, answers what it kept: every event ends as exactly one
 * detection event or dead letter, and the process is still running.
 */
@ExtendWith(LocalStackExtension.class)
class BoundedHeapTest {

    private static final int EVENTS = 120;

    @Test
    void aFullBufferDeadLettersTheRestAndTheInstanceKeepsWorking(LocalStack stack) throws Exception {
        SyntheticWorld world = TestPipelines.world();
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "heap-")) {
            client.createTopics(1);
            Map<String, String> settings = TestPipelines.settings(stack, client, "heap");
            settings.put(StreamsAppConfig.BUFFER_MAX_BYTES, Long.toString(48L << 20));
            settings.put(StreamsAppConfig.UNKNOWN_QUERY_SET_WAIT_MS, "300000");
            Process app = launch(settings);
            try {
                List<ExemplarQuery> queries = world.querySet("late", world.categories(List.of(91, 101)), 5, true, 1);
                byte[] image = noisePng(540);
                Set<String> expected = new HashSet<>();
                for (int i = 0; i < EVENTS; i++) {
                    String id = "heap-" + i;
                    expected.add(id);
                    client.publish(ImageEvent.newBuilder().setEventId(id).setSource("camera").setQuerySetId("late")
                            .setCapturedAtMs(Instant.now()).setImage(new InlineImage(ByteBuffer.wrap(image), "image/png"))
                            .setAttributes(Map.of()).build());
                }
                client.flush();
                long fit = (48L << 20) / image.length; // a little more than fits: each event's record has a few bytes more than its image
                List<ConsumerRecord<String, DeadLetter>> refused = client.deadLetters(r -> r.size() >= EVENTS - fit, Duration.ofMinutes(3));
                assertThat(refused).as("events over the cap dead-lettered").isNotNull();
                assertThat(refused).allSatisfy(r -> assertThat(r.value().getStage()).isEqualTo("buffer"));
                client.register(queries); // now the kept ones can run
                List<String> answered = new ArrayList<>();
                int detected = 0;
                long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
                while (System.nanoTime() < deadline && !new HashSet<>(answered).containsAll(expected)) {
                    answered.clear();
                    var detections = client.readFor(dev.mqdet.topics.Topics.DETECTIONS, Duration.ofSeconds(2));
                    detections.forEach(r -> answered.add(r.value().getEventId()));
                    detected = detections.size();
                    client.readFor(dev.mqdet.topics.Topics.IMAGES_DLQ, Duration.ofSeconds(1)).forEach(r -> answered.add(r.value().getEventId()));
                }
                assertThat(answered).as("every event answered once").containsExactlyInAnyOrderElementsOf(expected);
                // The last few events may still have been on their way when the query set came, and found room.
                assertThat((long) detected).as("events kept in the 48 MB buffer, then detected").isBetween(fit - 3, fit + 3);
                assertThat(app.isAlive()).as("the instance is still running").isTrue();
            } finally {
                app.destroy();
                app.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    /** A PNG of random pixels: it does not compress, so its bytes are about width x width x 3. */
    private static byte[] noisePng(int width) throws Exception {
        BufferedImage image = new BufferedImage(width, width, BufferedImage.TYPE_INT_RGB);
        Random random = new Random(7);
        for (int y = 0; y < width; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, random.nextInt(1 << 24));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }

    private static Process launch(Map<String, String> settings) throws Exception {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-Xmx320m", "-XX:+ExitOnOutOfMemoryError", "-cp", System.getProperty("java.class.path"), StreamsMain.class.getName()));
        settings.forEach((key, value) -> command.addAll(List.of("--set", key + "=" + value)));
        File log = TestPipelines.tempDir("heap-log").resolve("app.log").toFile();
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log).start();
    }
}
