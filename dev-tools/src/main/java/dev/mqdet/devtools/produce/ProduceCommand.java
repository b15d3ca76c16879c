package dev.mqdet.devtools.produce;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mqdet.client.DetectionJson;
import dev.mqdet.client.PipelineClient;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.ImageReference;
import dev.mqdet.events.InlineImage;
import dev.mqdet.images.SafeImageReader;
import dev.mqdet.streams.detect.S3Settings;
import dev.mqdet.topics.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./mqdet produce}: publishes image events for a user's own JPEG and PNG files (folders, files or globs), one
 * per file, at an optional rate: inline, or with {@code --by-reference s3://bucket/prefix/} uploaded there and sent
 * by reference; with {@code --wait}, prints each one's detection event as a JSON line. Progress goes to stderr, then
 * {@code published N of M images, K failed}. A file that cannot be read, is not a valid JPEG or PNG, or fails to
 * upload is reported on stderr and skipped; the exit code is 1 only when nothing could be published.
 */
@Command(name = "produce", mixinStandardHelpOptions = true, description = "Publish image events for your own JPEG/PNG files.")
public final class ProduceCommand implements Callable<Integer> {

    @Option(names = "--images", required = true, split = ",", description = "Image files, folders (their *.jpg, *.jpeg, *.png) or globs ('shots/**/*.jpg').")
    List<String> images;

    @Option(names = "--query-set", required = true, description = "The query set to detect in them.")
    String querySet;

    @Option(names = "--source", defaultValue = "mqdet-produce", description = "The events' source (default: ${DEFAULT-VALUE}).")
    String source;

    @Option(names = "--rate", defaultValue = "0", description = "Events per second; 0 publishes as fast as it can (default).")
    double rate;

    @Option(names = "--wait", description = "Wait for each event's detection event and print it as a JSON line.")
    boolean await;

    @Option(names = "--timeout", defaultValue = "PT60S", description = "How long --wait waits for all answers (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--bootstrap-servers", defaultValue = "${env:MQDET_BOOTSTRAP_SERVERS:-127.0.0.1:9092}", description = "Kafka (env MQDET_BOOTSTRAP_SERVERS).")
    String bootstrap;

    @Option(names = "--schema-registry-url", defaultValue = "${env:MQDET_SCHEMA_REGISTRY_URL:-http://127.0.0.1:8081}", description = "Schema registry (env MQDET_SCHEMA_REGISTRY_URL).")
    String registryUrl;

    @Option(names = "--by-reference", description = "Upload each image under this s3://bucket/prefix/ and publish it by reference.")
    String byReference;

    @Option(names = "--s3-endpoint", defaultValue = "${env:MQDET_IMAGE_S3_ENDPOINT:-}", description = "S3-compatible store's endpoint, empty for AWS (env MQDET_IMAGE_S3_ENDPOINT).")
    String s3Endpoint;

    @Option(names = "--s3-region", defaultValue = "${env:MQDET_IMAGE_S3_REGION:-}", description = "S3 region, empty for the SDK's default chain (env MQDET_IMAGE_S3_REGION).")
    String s3Region;

    @Option(names = "--s3-path-style", defaultValue = "${env:MQDET_IMAGE_S3_PATH_STYLE:-false}", description = "Path-style S3 access (env MQDET_IMAGE_S3_PATH_STYLE).")
    boolean s3PathStyle;

    /** Credentials: env MQDET_IMAGE_S3_ACCESS_KEY_ID and MQDET_IMAGE_S3_SECRET_ACCESS_KEY, else the SDK's default chain. */
    Map<String, String> environment = System.getenv();

    @Option(names = "--topic-prefix", defaultValue = "", hidden = true, description = "Prefix of the topic names (tests).")
    String topicPrefix;

    @Spec
    CommandSpec spec;

    @Option(names = "--max-image-bytes", defaultValue = "16777216", description = "Larger files are skipped (default: ${DEFAULT-VALUE}).")
    long maxImageBytes;

    public static void main(String[] args) {
        System.exit(new CommandLine(new ProduceCommand()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        List<Path> files = ImageFiles.expand(images);
        List<String> sent = new ArrayList<>();
        int failed = 0;
        try (PipelineClient client = new PipelineClient(bootstrap, registryUrl, topicPrefix);
             S3Upload upload = byReference == null ? null : new S3Upload(byReference, s3Settings(), Duration.ofSeconds(60));
             PipelineClient.Tail<DetectionEvent> answers = await ? client.tail(Topics.DETECTIONS) : null) {
            long started = System.nanoTime();
            for (int i = 0; i < files.size(); i++) {
                Path file = files.get(i);
                try {
                    byte[] bytes = Files.readAllBytes(file);
                    var image = SafeImageReader.read(bytes, maxImageBytes, Long.MAX_VALUE); // refuse what the pipeline would
                    String eventId = UUID.randomUUID().toString();
                    Object payload = upload == null ? new InlineImage(ByteBuffer.wrap(bytes), image.mediaType())
                            : new ImageReference(upload.upload(eventId + extension(image.mediaType()), bytes, image.mediaType()), image.mediaType());
                    client.publish(ImageEvent.newBuilder().setEventId(eventId).setSource(source).setQuerySetId(querySet)
                            .setCapturedAtMs(Instant.now()).setImage(payload)
                            .setAttributes(Map.of("file", file.getFileName().toString())).build());
                    sent.add(eventId);
                } catch (IOException | RuntimeException e) {
                    failed++;
                    err.printf("%nproduce: %s failed: %s%n", file, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
                }
                progress(err, i + 1, files.size());
                pace(started, i + 1);
            }
            client.flush();
            err.printf("%nproduce: published %d of %d images, %d failed (topic %s%s)%n", sent.size(), files.size(), failed,
                    client.topic(Topics.IMAGES), upload == null ? "" : ", images under " + byReference);
            err.flush();
            if (await && !sent.isEmpty()) {
                Set<String> wanted = Set.copyOf(sent);
                answers.until(records -> records.stream().filter(r -> wanted.contains(r.key())).count() >= wanted.size(), timeout);
                ObjectMapper json = new ObjectMapper();
                List<ConsumerRecord<String, DetectionEvent>> mine = answers.seen().stream().filter(r -> wanted.contains(r.key())).toList();
                for (ConsumerRecord<String, DetectionEvent> record : mine) {
                    System.out.println(json.writeValueAsString(DetectionJson.of(record.value())));
                }
                if (mine.size() < sent.size()) {
                    err.printf("produce: %d of %d events answered within %s (see the images-dlq topic for refused ones)%n",
                            mine.size(), sent.size(), timeout);
                }
            }
        }
        return sent.isEmpty() ? 1 : 0;
    }

    private S3Settings s3Settings() {
        return new S3Settings(s3Region, s3Endpoint, s3PathStyle, environment.getOrDefault("MQDET_IMAGE_S3_ACCESS_KEY_ID", ""),
                environment.getOrDefault("MQDET_IMAGE_S3_SECRET_ACCESS_KEY", ""));
    }

    private static String extension(String mediaType) {
        return mediaType.endsWith("png") ? ".png" : ".jpg";
    }

    private void pace(long startedNanos, int sentSoFar) throws InterruptedException {
        if (rate > 0) {
            long dueNanos = startedNanos + (long) (sentSoFar * 1e9 / rate);
            long sleepNanos = dueNanos - System.nanoTime();
            if (sleepNanos > 0) {
                Thread.sleep(sleepNanos / 1_000_000, (int) (sleepNanos % 1_000_000));
            }
        }
    }

    private static void progress(PrintWriter err, int done, int total) {
        int width = 30;
        int filled = total == 0 ? width : done * width / total;
        err.printf("\r[%s%s] %d/%d", "#".repeat(filled), " ".repeat(width - filled), done, total);
    }
}
