package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.client.MovingScenes;
import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.client.TrackScoring;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.TrackEvent;
import dev.mqdet.events.TrackEventType;
import dev.mqdet.inference.eval.EvalSet;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import dev.mqdet.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Tracks through the whole pipeline on the real broker and registry: ten camera sequences of 30 frames, with two
 * objects of one category passing head on and a third crossing them, detected by the shipped model and tracked;
 * the app (a separate process, exactly_once_v2) is killed mid-sequence and restarted.
 */
@ExtendWith(LocalStackExtension.class)
class TracksTest {

    private static final String QUERY_SET = "tracks";
    private static final int SEQUENCES = 10;
    private static final int FRAMES = 30;

    @Test
    void objectsKeepTheirTrackIdsAcrossACrashAndNoLifecycleEventIsDoubled(LocalStack stack) throws Exception {
        SyntheticWorld world = TestPipelines.world();
        List<EvalSet.Category> categories = world.categories(List.of(92, 100));
        MovingScenes scenes = new MovingScenes(world);
        List<MovingScenes.Frame> frames = new ArrayList<>();
        List<List<MovingScenes.Frame>> sequences = new ArrayList<>();
        for (int s = 0; s < SEQUENCES; s++) {
            List<MovingScenes.Frame> sequence = scenes.sequence(s, FRAMES, categories.get(0), categories.get(1));
            sequences.add(sequence);
            frames.addAll(sequence);
        }
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "trk-")) {
            client.createTopics(2);
            List<ExemplarQuery> queries = world.querySet(QUERY_SET, categories, 5, true, 1);
            client.register(queries);
            Map<String, String> settings = TestPipelines.settings(stack, client, "tracks");
            settings.put(StreamsAppConfig.TRACKS_GRACE_MS, "10000"); // keyed by event id, a source's frames cross partitions: room for skew under load
            settings.put(StreamsAppConfig.TRACKS_MAX_IDLE_MS, "4000");
            settings.put(StreamsAppConfig.SCORE_THRESHOLD, "0.3"); // the tracker's second pass keeps tracks alive on low scores
            long start = System.currentTimeMillis() - 60_000;

            Process first = ChildApps.launch(settings, "tracks-first");
            client.awaitEncoded(modelIdOf(settings), queries, Duration.ofMinutes(2));
            publish(client, sequences, 0, FRAMES / 2, start);
            client.read(Topics.TRACKS, r -> r.size() >= 3 * SEQUENCES, Duration.ofMinutes(3)); // tracks are under way
            first.destroyForcibly().waitFor(30, TimeUnit.SECONDS);

            Process second = ChildApps.launch(settings, "tracks-second");
            try {
                publish(client, sequences, FRAMES / 2, FRAMES, start);
                List<TrackEvent> events = awaitEveryTrackEnded(client, frames, Duration.ofMinutes(4));
                TrackScoring.Summary summary = TrackScoring.score(frames, events);
                System.err.printf("%s; %d of %d true objects tracked, %d duplicate lifecycle events, %d track events%n",
                        summary.line(), summary.objectsTracked(), summary.objects(), summary.duplicateLifecycleEvents(), events.size());
                assertThat(summary.duplicateLifecycleEvents()).as("lifecycle events published twice").isZero();
                assertThat(summary.objectsTracked()).as("true objects with a track").isEqualTo(summary.objects());
                assertThat(summary.idSwitches()).as("id switches, at most 5%% of %d tracks", summary.tracks())
                        .isLessThanOrEqualTo(summary.tracks() * 5 / 100);
                assertThat(summary.tracks()).as("tracks, for %d true objects", summary.objects()).isLessThanOrEqualTo(summary.objects() * 2);
            } finally {
                second.destroy();
                second.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    private static void publish(PipelineClient client, List<List<MovingScenes.Frame>> sequences, int from, int to, long start) {
        for (int f = from; f < to; f++) {
            for (List<MovingScenes.Frame> sequence : sequences) {
                client.publish(MovingScenes.imageEvent(sequence.get(f), QUERY_SET, start));
            }
        }
        client.flush();
    }

    /** Track events until every track of the sequences has ended (read_committed). */
    private static List<TrackEvent> awaitEveryTrackEnded(PipelineClient client, List<MovingScenes.Frame> frames, Duration timeout) {
        List<ConsumerRecord<String, TrackEvent>> records = client.read(Topics.TRACKS,
                r -> TrackScoring.everyTrackEnded(frames, r.stream().map(ConsumerRecord::value).toList()), timeout);
        assertThat(records).as("every track ended within %s", timeout).isNotNull();
        // a little longer: a doubled lifecycle event would be committed by then
        return client.readFor(Topics.TRACKS, Duration.ofSeconds(3)).stream().map(ConsumerRecord::value).toList();
    }

    private static String modelIdOf(Map<String, String> settings) {
        return dev.mqdet.inference.ModelPackage.load(Path.of(settings.get(StreamsAppConfig.MODEL_DIR))).modelId();
    }
}
