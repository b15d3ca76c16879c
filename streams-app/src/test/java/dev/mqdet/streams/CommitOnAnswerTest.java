package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 14: under exactly-once a finished batch is committed as soon as its answers are forwarded
 * ({@code mqdet.batch.commit-on-answer}), not at the next {@code commit.interval.ms}. With the interval set to ten
 * minutes, a {@code read_committed} reader on the real broker still sees each event's detection within seconds.
 */
@ExtendWith(LocalStackExtension.class)
class CommitOnAnswerTest {

    private static final String QUERY_SET = "shapes";

    @Test
    void aReadCommittedReaderSeesEachAnswerLongBeforeTheCommitInterval(LocalStack stack) throws Exception {
        SyntheticWorld world = TestPipelines.world();
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "commit-on-answer-")) {
            client.createTopics(1);
            List<ExemplarQuery> queries = world.querySet(QUERY_SET, world.categories(SyntheticWorld.SHOWCASE_CATEGORIES), 5, true, 1);
            client.register(queries);
            Map<String, String> settings = TestPipelines.settings(stack, client, "commit-on-answer");
            settings.put("processing.guarantee", "exactly_once_v2");
            settings.put("commit.interval.ms", Long.toString(Duration.ofMinutes(10).toMillis()));
            settings.put("producer.transaction.timeout.ms", Long.toString(Duration.ofMinutes(11).toMillis())); // Streams wants it above the interval
            try (PipelineApp app = PipelineApp.start(StreamsAppConfig.of(settings));
                 PipelineClient.Tail<DetectionEvent> tail = client.tail(dev.mqdet.topics.Topics.DETECTIONS)) {
                app.awaitRunning(Duration.ofSeconds(90));
                client.awaitEncoded(app.model().modelId(), queries, Duration.ofMinutes(2));
                for (int i = 0; i < 3; i++) { // one at a time: each answer must be committed on its own
                    String id = "answer-" + i;
                    client.publish(world.imageEvent(id, i, QUERY_SET));
                    client.flush();
                    List<ConsumerRecord<String, DetectionEvent>> seen =
                            tail.until(records -> records.stream().anyMatch(r -> r.key().equals(id)), Duration.ofSeconds(20));
                    assertThat(seen).as("%s read committed within 20 s, with commits every 10 minutes", id).isNotNull();
                }
            }
        }
    }
}
