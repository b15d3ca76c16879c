package dev.mqdet.devtools.produce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.ImageReference;
import dev.mqdet.events.InlineImage;
import dev.mqdet.streams.detect.ImageSource;
import dev.mqdet.streams.detect.S3Settings;
import dev.mqdet.testkit.LocalS3;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import dev.mqdet.topics.Topics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code ./mqdet produce} on the real broker and registry (and, by reference, a real S3-compatible server): a folder of
 * 20 images with one corrupt file publishes 19 events, reports the bad file and exits 0; a glob picks files; uploads
 * by reference land in the bucket and the events carry their {@code s3://} URIs; nothing publishable exits 1.
 */
@ExtendWith(LocalStackExtension.class)
class ProduceCommandTest {

    private static final Path ROOT = Path.of(System.getProperty("mqdet.repo.root", "..")).toAbsolutePath().normalize();

    @TempDir
    Path dir;

    record Run(int exitCode, String stderr) {}

    private static Run produce(Map<String, String> environment, String... args) {
        ProduceCommand command = new ProduceCommand();
        command.environment = environment;
        StringWriter err = new StringWriter();
        int code = new CommandLine(command).setErr(new PrintWriter(err, true)).execute(args);
        return new Run(code, err.toString());
    }

    /** 19 scenes of the synthetic world as PNG files and one corrupt file among them. */
    private Path folderWithOneCorruptFile() throws Exception {
        SyntheticWorld world = SyntheticWorld.load(ROOT.resolve("models/synth-eval"));
        Path images = Files.createDirectories(dir.resolve("images"));
        for (int i = 0; i < 19; i++) {
            ImageEvent scene = world.imageEvent("scene-" + i, i, "any");
            Files.write(images.resolve(String.format("scene-%02d.png", i)), ImageSource.copy(((InlineImage) scene.getImage()).getData()));
        }
        Files.writeString(images.resolve("scene-07-corrupt.png"), "this is not a PNG", StandardCharsets.UTF_8);
        return images;
    }

    private static List<ConsumerRecord<String, ImageEvent>> readImages(PipelineClient client, int expected) {
        List<ConsumerRecord<String, ImageEvent>> seen = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (seen.size() < expected && System.nanoTime() < deadline) {
            seen = client.readFor(Topics.IMAGES, Duration.ofSeconds(1));
        }
        return seen;
    }

    @Test
    void aFolderOfTwentyWithOneCorruptFilePublishesNineteenAndExitsZero(LocalStack stack) throws Exception {
        Path images = folderWithOneCorruptFile();
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "produce-inline-")) {
            client.createTopics(2);
            Run run = produce(Map.of(), "--images", images.toString(), "--query-set", "qs", "--source", "my-cam",
                    "--bootstrap-servers", stack.bootstrapServers(), "--schema-registry-url", stack.schemaRegistryUrl(),
                    "--topic-prefix", "produce-inline-");

            assertThat(run.exitCode()).isZero();
            assertThat(run.stderr()).contains("scene-07-corrupt.png failed").contains("published 19 of 20 images, 1 failed")
                    .contains("[" + "#".repeat(30) + "] 20/20");
            List<ConsumerRecord<String, ImageEvent>> published = readImages(client, 19);
            assertThat(published).hasSize(19);
            assertThat(published).allSatisfy(r -> {
                assertThat(r.value().getSource()).isEqualTo("my-cam");
                assertThat(r.value().getImage()).isInstanceOf(InlineImage.class);
            });
            assertThat(published).extracting(r -> r.value().getAttributes().get("file")).doesNotContain("scene-07-corrupt.png");
        }
    }

    @Test
    void byReferenceUploadsEachImageToTheBucketAndPublishesItsS3Uri(LocalStack stack) throws Exception {
        Path images = folderWithOneCorruptFile();
        try (LocalS3 s3 = LocalS3.start(dir.resolve("s3"), "uploads");
             PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "produce-ref-")) {
            client.createTopics(2);
            Map<String, String> credentials = Map.of("MQDET_IMAGE_S3_ACCESS_KEY_ID", "key", "MQDET_IMAGE_S3_SECRET_ACCESS_KEY", "secret");
            Run run = produce(credentials, "--images", images + "/scene-1*.png", "--query-set", "qs",
                    "--by-reference", "s3://uploads/cams/front/", "--s3-endpoint", s3.endpoint(), "--s3-path-style", "--s3-region", "us-east-1",
                    "--bootstrap-servers", stack.bootstrapServers(), "--schema-registry-url", stack.schemaRegistryUrl(),
                    "--topic-prefix", "produce-ref-");

            assertThat(run.exitCode()).isZero();
            assertThat(run.stderr()).contains("published 9 of 9 images, 0 failed"); // the glob: scene-10 .. scene-18
            List<ConsumerRecord<String, ImageEvent>> published = readImages(client, 9);
            assertThat(published).hasSize(9);
            S3Settings settings = new S3Settings("us-east-1", s3.endpoint(), true, "key", "secret");
            try (ImageSource source = new ImageSource(List.of("s3://uploads/cams/front/"), 1 << 20, Duration.ofSeconds(10), settings)) {
                for (ConsumerRecord<String, ImageEvent> record : published) {
                    String uri = ((ImageReference) record.value().getImage()).getUri();
                    assertThat(uri).startsWith("s3://uploads/cams/front/").endsWith(".png");
                    Path original = images.resolve(record.value().getAttributes().get("file"));
                    assertThat(source.fetch(uri)).as(uri).isEqualTo(Files.readAllBytes(original));
                }
            }
        }
    }

    @Test
    void nothingPublishableExitsOne(LocalStack stack) throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.jpg"), "not a JPEG");
        Run run = produce(Map.of(), "--images", bad + "," + dir.resolve("missing.png"), "--query-set", "qs",
                "--bootstrap-servers", stack.bootstrapServers(), "--schema-registry-url", stack.schemaRegistryUrl(),
                "--topic-prefix", "produce-none-");
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.stderr()).contains("bad.jpg failed").contains("missing.png failed").contains("published 0 of 2 images, 2 failed");
    }
}
