package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.client.PipelineClient;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import dev.mqdet.topics.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Two instances with one application id over a 4-partition images topic share the work and answer every event once. */
@ExtendWith(LocalStackExtension.class)
class ScaleOutTest {

    @Test
    void twoInstancesShareTheWorkAndCoverEveryEvent(LocalStack stack) throws Exception {
        SyntheticWorld world = TestPipelines.world();
        int events = 40;
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "scale-")) {
            client.createTopics(4);
            List<ExemplarQuery> queries = world.querySet("scale", world.categories(List.of(91, 109)), 5, true, 1);
            client.register(queries);
            try (PipelineApp one = PipelineApp.start(StreamsAppConfig.of(TestPipelines.settings(stack, client, "scale")));
                 PipelineApp two = PipelineApp.start(StreamsAppConfig.of(TestPipelines.settings(stack, client, "scale")))) {
                one.awaitRunning(Duration.ofSeconds(90));
                two.awaitRunning(Duration.ofSeconds(90));
                client.awaitEncoded(one.model().modelId(), queries, Duration.ofMinutes(2));
                for (int i = 0; i < events; i++) {
                    client.publish(world.imageEvent("scale-" + i, i, "scale"));
                }
                client.flush();
                Set<String> expected = IntStream.range(0, events).mapToObj(i -> "scale-" + i).collect(Collectors.toSet());
                List<ConsumerRecord<String, dev.mqdet.events.DetectionEvent>> out = client.detections(
                        r -> r.stream().map(ConsumerRecord::key).collect(Collectors.toSet()).containsAll(expected), Duration.ofMinutes(4));
                assertThat(out).as("every event answered").isNotNull();
                assertThat(out).extracting(ConsumerRecord::key).containsExactlyInAnyOrderElementsOf(expected);
                assertThat(one.eventsOut()).as("instance one's share").isPositive();
                assertThat(two.eventsOut()).as("instance two's share").isPositive();
                assertThat(one.eventsOut() + two.eventsOut()).isEqualTo(events);
                assertThat(client.readFor(Topics.IMAGES_DLQ, Duration.ofMillis(500))).isEmpty();
            }
        }
    }
}
