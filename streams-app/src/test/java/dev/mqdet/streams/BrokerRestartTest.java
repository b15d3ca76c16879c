package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import dev.mqdet.testkit.StandaloneBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Fault test (issue 13, point 9a): the Kafka broker, a process of its own ({@code kafka.Kafka}), is killed while image
 * events are being produced and processed under exactly_once_v2, stays down for five seconds while the producer keeps
 * publishing, and is restarted on the same port and data folder. The running app instance (not restarted) recovers, and a
 * read_committed consumer sees exactly one detection event or dead letter per event published before, during and after
 * the outage.
 */
@ExtendWith(LocalStackExtension.class)
class BrokerRestartTest {

    private static final String QUERY_SET = "broker-restart";

    @Test
    void shouldAnswerEveryEventExactlyOnceWhenTheBrokerIsKilledAndRestartedMidStream(LocalStack stack) throws Exception {
        SyntheticWorld world = TestPipelines.world();
        int events = 60;
        try (StandaloneBroker broker = StandaloneBroker.start(TestPipelines.tempDir("standalone-broker"));
             PipelineClient client = new PipelineClient(broker.bootstrapServers(), stack.schemaRegistryUrl(), "broker-restart-")) {
            client.createTopics(2);
            List<ExemplarQuery> queries = world.querySet(QUERY_SET, world.categories(List.of(91, 101)), 5, true, 1);
            client.register(queries);
            Map<String, String> settings = TestPipelines.settings(stack, client, "broker-restart");
            settings.put("bootstrap.servers", broker.bootstrapServers());
            settings.put(StreamsAppConfig.BATCH_SIZE, "8");
            settings.put(StreamsAppConfig.BATCH_MAX_WAIT_MS, "300");
            try (PipelineApp app = PipelineApp.start(StreamsAppConfig.of(settings))) {
                app.awaitRunning(Duration.ofSeconds(90));
                client.awaitEncoded(app.model().modelId(), queries, Duration.ofMinutes(2));

                List<String> expected = new ArrayList<>();
                for (int i = 0; i < events; i++) {
                    expected.add("broker-restart-" + i);
                }
                java.util.concurrent.atomic.AtomicInteger published = new java.util.concurrent.atomic.AtomicInteger();
                // A steady stream, one event every 50 ms (3 s), that goes on through the outage: the producer buffers.
                CompletableFuture<Void> producing = CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < events; i++) {
                        String id = expected.get(i);
                        // every tenth event has no such query set: a dead letter, written in the same transactions
                        client.publish(world.imageEvent(id, i, i % 10 == 3 ? "no-such-query-set" : QUERY_SET));
                        published.incrementAndGet();
                        sleep(50);
                    }
                });

                assertThat(client.detections(r -> r.size() >= 5, Duration.ofMinutes(1))).as("first outputs before the kill").isNotNull();
                broker.kill();
                int publishedAtKill = published.get();
                assertThat(broker.isRunning()).isFalse();
                sleep(5_000);
                assertThat(publishedAtKill).as("the producer was still publishing when the broker went down").isLessThan(events);
                broker.restart();
                producing.join();
                client.flush();

                FaultTests.assertEachAnsweredExactlyOnce(client, expected, Duration.ofMinutes(2));
                assertThat(app.streams().state()).as("the same instance, still running")
                        .isIn(KafkaStreams.State.RUNNING, KafkaStreams.State.REBALANCING);
            }
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
