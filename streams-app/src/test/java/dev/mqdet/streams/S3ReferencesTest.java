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
import dev.mqdet.streams.detect.ImageSource;
import dev.mqdet.streams.detect.S3Settings;
import dev.mqdet.testkit.LocalS3;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Images by reference in object storage (issue 18.2), on the real broker, registry and a real S3-compatible server
 * (S3Mock, {@link LocalS3}): a 5 MB PNG by {@code s3://} reference comes back as a detection event; a reference outside
 * the allowed bucket prefix, a missing key and an object over the byte cap each come back as one dead letter of stage
 * {@code fetch} with the reason.
 */
@ExtendWith(LocalStackExtension.class)
class S3ReferencesTest {

    private static final String QUERY_SET = "s3-refs";
    private static final int MAX_BYTES = 8 << 20;

    @Test
    void shouldDetectInALargeImageByS3ReferenceAndDeadLetterRefusedReferences(LocalStack stack) throws Exception {
        SyntheticWorld world = TestPipelines.world();
        try (LocalS3 s3 = LocalS3.start(TestPipelines.tempDir("s3-refs"), "frames");
             PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "s3refs-")) {
            S3Settings s3Settings = new S3Settings("us-east-1", s3.endpoint(), true, "test-key", "test-secret");
            byte[] large = largePng(world);
            assertThat(large.length).as("the large image's size").isBetween(5 << 20, MAX_BYTES);
            System.out.printf("S3ReferencesTest: large PNG of %d bytes, cap %d bytes%n", large.length, MAX_BYTES);
            try (S3Client upload = s3Settings.client(Duration.ofSeconds(30))) {
                upload.putObject(b -> b.bucket("frames").key("cam-1/large.png"), RequestBody.fromBytes(large));
                upload.putObject(b -> b.bucket("frames").key("private/large.png"), RequestBody.fromBytes(large));
                upload.putObject(b -> b.bucket("frames").key("cam-1/too-large.png"), RequestBody.fromBytes(noise(MAX_BYTES + 1024)));
            }

            client.createTopics(2);
            List<ExemplarQuery> queries = world.querySet(QUERY_SET, world.categories(List.of(91, 101)), 5, true, 1);
            client.register(queries);
            Map<String, String> settings = TestPipelines.settings(stack, client, "s3refs");
            settings.put(StreamsAppConfig.FETCH_ALLOWED_PREFIXES, "s3://frames/cam-1/");
            settings.put(StreamsAppConfig.MAX_IMAGE_BYTES, Integer.toString(MAX_BYTES));
            settings.put(StreamsAppConfig.S3_ENDPOINT, s3.endpoint());
            settings.put(StreamsAppConfig.S3_PATH_STYLE, "true");
            settings.put(StreamsAppConfig.S3_REGION, "us-east-1");
            settings.put(StreamsAppConfig.S3_ACCESS_KEY_ID, "test-key");
            settings.put(StreamsAppConfig.S3_SECRET_ACCESS_KEY, "test-secret");

            Map<String, String> refused = Map.of( // event id -> the reason its dead letter gives
                    "outside", "not under an allowed prefix",
                    "missing", "does not exist",
                    "too-large", "more than the limit of " + MAX_BYTES);
            try (PipelineApp app = PipelineApp.start(StreamsAppConfig.of(settings))) {
                app.awaitRunning(Duration.ofSeconds(90));
                client.awaitEncoded(app.model().modelId(), queries, Duration.ofMinutes(2));
                client.publish(reference(world, "large", "s3://frames/cam-1/large.png"));
                client.publish(reference(world, "outside", "s3://frames/private/large.png"));
                client.publish(reference(world, "missing", "s3://frames/cam-1/no-such-frame.png"));
                client.publish(reference(world, "too-large", "s3://frames/cam-1/too-large.png"));
                client.flush();

                long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
                List<ConsumerRecord<String, DetectionEvent>> detections;
                List<ConsumerRecord<String, DeadLetter>> letters;
                do {
                    detections = client.readFor(dev.mqdet.topics.Topics.DETECTIONS, Duration.ofSeconds(1));
                    letters = client.readFor(dev.mqdet.topics.Topics.IMAGES_DLQ, Duration.ofSeconds(1));
                } while (detections.size() + letters.size() < 4 && System.nanoTime() < deadline);

                assertThat(detections).extracting(ConsumerRecord::key).containsExactly("large");
                DetectionEvent event = detections.get(0).value();
                assertThat(event.getImageWidth()).isEqualTo(1800);
                assertThat(event.getImageHeight()).isEqualTo(1800);
                assertThat(event.getDetections()).as("objects found in the upscaled scene").isNotEmpty();
                Map<String, String> reasons = new HashMap<>();
                for (ConsumerRecord<String, DeadLetter> letter : letters) {
                    assertThat(letter.value().getStage()).as("stage of %s", letter.key()).isEqualTo("fetch");
                    reasons.put(letter.key(), letter.value().getErrorMessage());
                }
                assertThat(reasons).containsOnlyKeys(refused.keySet());
                refused.forEach((id, reason) -> assertThat(reasons.get(id)).as("why %s was refused", id).contains(reason));
            }
        }
    }

    /** A scene of the synthetic world upscaled to 1800x1800 with noise in the low bits: over 5 MB as PNG. */
    static byte[] largePng(SyntheticWorld world) throws Exception {
        ImageEvent scene = world.imageEvent("scene", 0, QUERY_SET);
        BufferedImage small = ImageIO.read(new ByteArrayInputStream(ImageSource.copy(((InlineImage) scene.getImage()).getData())));
        BufferedImage big = new BufferedImage(1800, 1800, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = big.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(small, 0, 0, 1800, 1800, null);
        g.dispose();
        Random random = new Random(18);
        for (int y = 0; y < 1800; y++) {
            for (int x = 0; x < 1800; x++) {
                int rgb = big.getRGB(x, y);
                int noise = random.nextInt(1 << 24) & 0x0f0f0f; // 4 noisy bits per channel
                big.setRGB(x, y, (rgb & 0xf0f0f0) | noise);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(big, "png", out);
        return out.toByteArray();
    }

    private static byte[] noise(int size) {
        byte[] bytes = new byte[size];
        new Random(7).nextBytes(bytes);
        return bytes;
    }

    private static ImageEvent reference(SyntheticWorld world, String eventId, String uri) {
        ImageEvent event = world.imageEvent(eventId, 0, QUERY_SET);
        event.setImage(new ImageReference(uri, null));
        return event;
    }
}
