package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import dev.mqdet.topics.Topics;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Fault test (issue 13, point 9c): one instance processes a steady stream over four partitions under exactly_once_v2; a
 * second instance with the same application id joins while the first has batches in inference (seen on its
 * {@code mqdet_batches_in_flight} gauge), so partitions move with jobs running: the revoked tasks drop their running
 * jobs, whose events are in the committed buffer changelog and are answered by the new owner. Then, once the second
 * owns some of the images partitions, the first instance leaves while the stream still runs and the second takes all
 * four. A read_committed consumer sees exactly one
 * detection event per event, and no dead letter.
 *
 * <p>Kafka Streams does not leave the group when an instance closes: its partitions move when its session times
 * out ({@code session.timeout.ms}, 6 s here instead of 45 s, to keep the test short).
 */
@ExtendWith(LocalStackExtension.class)
class RebalanceInFlightTest {

    private static final String QUERY_SET = "rebalance";

    @Test
    void shouldAnswerEveryEventExactlyOnceWhenInstancesJoinAndLeaveWithBatchesInFlight(LocalStack stack) throws Exception {
        SyntheticWorld world = TestPipelines.world();
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "rebalance-")) {
            client.createTopics(4);
            List<ExemplarQuery> queries = world.querySet(QUERY_SET, world.categories(List.of(91, 109)), 5, true, 1);
            client.register(queries);
            String images = client.topic(Topics.IMAGES);
            PipelineApp one = PipelineApp.start(StreamsAppConfig.of(settings(stack, client)));
            PipelineApp two = null;
            try {
                one.awaitRunning(Duration.ofSeconds(90));
                client.awaitEncoded(one.model().modelId(), queries, Duration.ofMinutes(2));

                List<String> expected = new CopyOnWriteArrayList<>();
                AtomicBoolean stop = new AtomicBoolean();
                // A steady stream, one event every 50 ms (a little more than one instance answers on two cores), through both
                // rebalances until stopped.
                CompletableFuture<Void> producing = CompletableFuture.runAsync(() -> {
                    for (int i = 0; !stop.get() && i < 2_000; i++) {
                        String id = "rebalance-" + i;
                        client.publish(world.imageEvent(id, i, QUERY_SET));
                        expected.add(id);
                        sleep(50);
                    }
                });
                assertThat(client.detections(r -> r.size() >= 10, Duration.ofMinutes(1))).as("instance one answering").isNotNull();

                PipelineApp first = one;
                AtomicBoolean joining = new AtomicBoolean(true);
                AtomicInteger mostInFlight = new AtomicInteger();
                CompletableFuture<Void> sampling = CompletableFuture.runAsync(() -> {
                    while (joining.get()) {
                        mostInFlight.accumulateAndGet(batchesInFlight(first), Math::max);
                        sleep(25);
                    }
                });
                two = PipelineApp.start(StreamsAppConfig.of(settings(stack, client)));
                awaitImagePartitions(two, images, n -> n > 0 && n < 4);
                joining.set(false);
                sampling.join();
                assertThat(mostInFlight.get()).as("batches in inference on instance one while instance two joined").isPositive();

                one.close(); // leaves while the stream runs: its partitions move to instance two when its session ends
                one = null;
                awaitImagePartitions(two, images, n -> n == 4);
                sleep(1_000);
                stop.set(true);
                producing.join();
                client.flush();
                assertThat(expected).as("the stream ran through both rebalances, stopped after them").hasSizeLessThan(2_000);

                FaultTests.assertEachAnsweredExactlyOnce(client, expected, Duration.ofMinutes(2));
                assertThat(client.readFor(Topics.IMAGES_DLQ, Duration.ofMillis(500))).as("no event dead-lettered by a rebalance").isEmpty();
            } finally {
                if (one != null) {
                    one.close();
                }
                if (two != null) {
                    two.close();
                }
            }
        }
    }

    private static Map<String, String> settings(LocalStack stack, PipelineClient client) {
        Map<String, String> settings = TestPipelines.settings(stack, client, "rebalance");
        settings.put(StreamsAppConfig.BATCH_SIZE, "8");
        settings.put("session.timeout.ms", "6000"); // the broker's minimum
        settings.put("heartbeat.interval.ms", "1000");
        return settings;
    }

    /** Waits until {@code app}'s active tasks hold a number of {@code topic}'s partitions that {@code wanted} accepts. */
    private static void awaitImagePartitions(PipelineApp app, String topic, IntPredicate wanted) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        int owned = imagePartitions(app, topic);
        while (!wanted.test(owned) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            owned = imagePartitions(app, topic);
        }
        assertThat(owned).as("partitions of " + topic + " owned by the instance").matches(wanted::test);
    }

    private static int imagePartitions(PipelineApp app, String topic) {
        if (app.streams().state() != KafkaStreams.State.RUNNING) {
            return -1;
        }
        return (int) app.streams().metadataForLocalThreads().stream()
                .flatMap(thread -> thread.activeTasks().stream())
                .flatMap(task -> task.topicPartitions().stream())
                .filter(partition -> partition.topic().equals(topic))
                .count();
    }

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** The instance's {@code mqdet_batches_in_flight} gauge, from its Prometheus endpoint. */
    private static int batchesInFlight(PipelineApp app) {
        try {
            String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.httpPort() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            return metrics.lines().filter(line -> line.startsWith("mqdet_batches_in_flight "))
                    .mapToInt(line -> (int) Double.parseDouble(line.substring(line.indexOf(' ') + 1).trim())).findFirst().orElse(0);
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
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
