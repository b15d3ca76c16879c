package dev.mqdet.devtools.produce;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mqdet.client.DetectionJson;
import dev.mqdet.client.PipelineClient;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.InlineImage;
import dev.mqdet.images.SafeImageReader;
import dev.mqdet.topics.Topics;
import java.io.IOException;
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
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./mqdet produce}: publishes image events for a user's own JPEG and PNG files (inline), one per file, at an
 * optional rate; with {@code --wait}, prints each one's detection event as a JSON line. A file that is not a valid
 * JPEG or PNG is reported on stderr and skipped; the exit code is 1 only when nothing could be published.
 */
@Command(name = "produce", mixinStandardHelpOptions = true, description = "Publish image events for your own JPEG/PNG files.")
public final class ProduceCommand implements Callable<Integer> {

    @Option(names = "--images", required = true, split = ",", description = "Image files or folders (their *.jpg, *.jpeg, *.png).")
    List<Path> images;

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

    @Option(names = "--max-image-bytes", defaultValue = "16777216", description = "Larger files are skipped (default: ${DEFAULT-VALUE}).")
    long maxImageBytes;

    public static void main(String[] args) {
        System.exit(new CommandLine(new ProduceCommand()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        List<Path> files = files();
        List<String> sent = new ArrayList<>();
        int failed = 0;
        try (PipelineClient client = new PipelineClient(bootstrap, registryUrl);
             PipelineClient.Tail<DetectionEvent> answers = await ? client.tail(Topics.DETECTIONS) : null) {
            long started = System.nanoTime();
            for (int i = 0; i < files.size(); i++) {
                Path file = files.get(i);
                try {
                    byte[] bytes = Files.readAllBytes(file);
                    var image = SafeImageReader.read(bytes, maxImageBytes, Long.MAX_VALUE); // refuse what the pipeline would
                    String eventId = UUID.randomUUID().toString();
                    client.publish(ImageEvent.newBuilder().setEventId(eventId).setSource(source).setQuerySetId(querySet)
                            .setCapturedAtMs(Instant.now()).setImage(new InlineImage(ByteBuffer.wrap(bytes), image.mediaType()))
                            .setAttributes(Map.of("file", file.getFileName().toString())).build());
                    sent.add(eventId);
                } catch (IOException | RuntimeException e) {
                    failed++;
                    System.err.printf("%nproduce: %s skipped: %s%n", file, e.getMessage());
                }
                progress(i + 1, files.size());
                pace(started, i + 1);
            }
            client.flush();
            System.err.printf("%nproduce: %d events published to %s, %d files skipped%n", sent.size(), client.topic(Topics.IMAGES), failed);
            if (await && !sent.isEmpty()) {
                Set<String> wanted = Set.copyOf(sent);
                answers.until(records -> records.stream().filter(r -> wanted.contains(r.key())).count() >= wanted.size(), timeout);
                ObjectMapper json = new ObjectMapper();
                List<ConsumerRecord<String, DetectionEvent>> mine = answers.seen().stream().filter(r -> wanted.contains(r.key())).toList();
                for (ConsumerRecord<String, DetectionEvent> record : mine) {
                    System.out.println(json.writeValueAsString(DetectionJson.of(record.value())));
                }
                if (mine.size() < sent.size()) {
                    System.err.printf("produce: %d of %d events answered within %s (see the images-dlq topic for refused ones)%n",
                            mine.size(), sent.size(), timeout);
                }
            }
        }
        return sent.isEmpty() ? 1 : 0;
    }

    private List<Path> files() throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path path : images) {
            if (Files.isDirectory(path)) {
                try (Stream<Path> listed = Files.list(path)) {
                    files.addAll(listed.filter(p -> p.getFileName().toString().toLowerCase().matches(".*\\.(jpe?g|png)"))
                            .sorted().collect(Collectors.toList()));
                }
            } else {
                files.add(path);
            }
        }
        return files;
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

    private static void progress(int done, int total) {
        int width = 30;
        int filled = total == 0 ? width : done * width / total;
        System.err.printf("\r[%s%s] %d/%d", "#".repeat(filled), " ".repeat(width - filled), done, total);
    }
}
