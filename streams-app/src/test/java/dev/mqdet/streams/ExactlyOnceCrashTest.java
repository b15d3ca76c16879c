package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.client.PipelineClient;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import dev.mqdet.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The streams app, a separate process with exactly_once_v2, is killed (SIGKILL, no clean close) while it has
 * events in flight and in its batch buffer, then restarted: a read_committed consumer sees exactly one detection
 * event or dead letter per input event, none lost, none doubled.
 */
@ExtendWith(LocalStackExtension.class)
class ExactlyOnceCrashTest {

    private static final String QUERY_SET = "crash";

    @Test
    void killedMidRunThenRestartedAnswersEveryEventExactlyOnce(LocalStack stack) throws Exception {
        SyntheticWorld world = TestPipelines.world();
        int events = 60;
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "crash-")) {
            client.createTopics(2);
            List<ExemplarQuery> queries = world.querySet(QUERY_SET, world.categories(List.of(91, 101)), 5, true, 1);
            client.register(queries);
            Map<String, String> settings = TestPipelines.settings(stack, client, "crash");
            settings.put(StreamsAppConfig.BATCH_SIZE, "8");
            settings.put(StreamsAppConfig.BATCH_MAX_WAIT_MS, "2000"); // events sit in the buffer when the kill comes

            Process first = ChildApps.launch(settings, "crash-first");
            client.awaitEncoded(modelIdOf(settings), queries, Duration.ofMinutes(2));
            Set<String> expected = new HashSet<>();
            for (int i = 0; i < events; i++) {
                String id = "crash-" + i;
                expected.add(id);
                if (i % 10 == 7) { // some bad input on the way: it must be dead-lettered exactly once too
                    client.publishRaw(id.getBytes(StandardCharsets.UTF_8), new byte[] {1, 2, 3});
                } else {
                    client.publish(world.imageEvent(id, i, QUERY_SET));
                }
            }
            client.flush();
            // Kill once part of the work is committed, so the crash lands mid-run.
            assertThat(client.detections(r -> r.size() >= 10, Duration.ofMinutes(3))).as("first outputs before the kill").isNotNull();
            first.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            List<String> answeredBeforeRestart = answered(client, Duration.ofSeconds(3));
            assertThat(answeredBeforeRestart.size()).as("the kill came before the end").isLessThan(events);

            Process second = ChildApps.launch(settings, "crash-second");
            try {
                List<String> answered = null;
                long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
                while (System.nanoTime() < deadline) {
                    answered = answered(client, Duration.ofSeconds(2));
                    if (new HashSet<>(answered).containsAll(expected)) {
                        break;
                    }
                }
                assertThat(answered).as("every event answered, none twice").containsExactlyInAnyOrderElementsOf(expected);
            } finally {
                second.destroy();
                second.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    /** Event ids of every detection event and dead letter visible to a read_committed consumer. */
    private static List<String> answered(PipelineClient client, Duration wait) {
        List<String> ids = new ArrayList<>();
        client.readFor(Topics.DETECTIONS, wait).forEach(r -> ids.add(r.value().getEventId()));
        client.readFor(Topics.IMAGES_DLQ, wait).forEach(r -> ids.add(r.key())); // dead letters keep the original key
        return ids;
    }

    private static String modelIdOf(Map<String, String> settings) {
        return dev.mqdet.inference.ModelPackage.load(Path.of(settings.get(StreamsAppConfig.MODEL_DIR))).modelId();
    }
}
