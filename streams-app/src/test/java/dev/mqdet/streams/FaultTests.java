package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.client.PipelineClient;
import dev.mqdet.topics.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;

/** What the fault tests share: reading every answer a read_committed consumer sees, and the exactly-once check. */
final class FaultTests {
    private FaultTests() {}

    /** Event ids of every detection event and dead letter visible to a read_committed consumer (dead letters keep the original key). */
    static List<String> answered(PipelineClient client) {
        List<String> ids = new ArrayList<>();
        client.readFor(Topics.DETECTIONS, Duration.ofSeconds(1)).forEach(r -> ids.add(r.key()));
        client.readFor(Topics.IMAGES_DLQ, Duration.ofSeconds(1)).forEach(r -> ids.add(r.key()));
        return ids;
    }

    /**
     * Waits until every expected event is answered, then a little longer (a doubled answer would be committed by then),
     * and checks that each is answered exactly once and nothing else is.
     */
    static void assertEachAnsweredExactlyOnce(PipelineClient client, Collection<String> expected, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> answered = answered(client);
        while (!new HashSet<>(answered).containsAll(expected) && System.nanoTime() < deadline) {
            answered = answered(client);
        }
        Thread.sleep(1_000);
        answered = answered(client);
        assertThat(answered).as("every event answered by one detection event or dead letter, none twice")
                .containsExactlyInAnyOrderElementsOf(expected);
    }
}
