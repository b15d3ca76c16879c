package dev.mqdet.streams.track;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.events.TrackEvent;
import dev.mqdet.events.TrackEventType;
import dev.mqdet.inference.Box;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SourceTrackerTest {

    private static final TrackerSettings SETTINGS = TrackerSettings.defaults();
    private static final long FRAME_MS = 100;

    /** A true object moving in a straight line: where it is in frame f. */
    record Mover(int id, String category, float x, float y, float vx, float vy, float size) {
        Box at(int frame) {
            float cx = x + vx * frame;
            float cy = y + vy * frame;
            return new Box(cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2);
        }
    }

    @Test
    void objectsThatCrossKeepTheirTracksOverTenSequences() {
        Random random = new Random(7);
        int tracksTotal = 0;
        int switches = 0;
        int objects = 0;
        for (int sequence = 0; sequence < 10; sequence++) {
            List<Mover> movers = new ArrayList<>();
            // two of the same category cross head-on, a third crosses them diagonally, a fourth of another category too
            movers.add(new Mover(0, "fox", 40, 150, 8, 0, 40));
            movers.add(new Mover(1, "fox", 280, 160, -8, 0, 40));
            movers.add(new Mover(2, "fox", 150, 30, 0.5f, 8, 36));
            movers.add(new Mover(3, "owl", 40, 40, 7, 7, 44));
            objects += movers.size();
            SourceTracker tracker = new SourceTracker("cam-" + sequence);
            Map<Integer, Integer> lastTrackOf = new HashMap<>();
            Set<Integer> tracked = new HashSet<>();
            for (int f = 0; f < 30; f++) {
                List<Frame.Found> found = new ArrayList<>();
                Map<Frame.Found, Integer> truth = new HashMap<>();
                for (Mover m : movers) {
                    if (random.nextFloat() < 0.05f) {
                        continue; // missed by the detector in this frame
                    }
                    Box b = m.at(f);
                    Box noisy = new Box(b.x1() + jitter(random), b.y1() + jitter(random), b.x2() + jitter(random), b.y2() + jitter(random));
                    Frame.Found d = new Frame.Found(m.category(), m.category(), random.nextFloat() < 0.15f ? 0.35f : 0.6f + 0.35f * random.nextFloat(), noisy);
                    found.add(d);
                    truth.put(d, m.id());
                }
                long capturedAt = 1_000_000 + f * FRAME_MS;
                tracker.offer(new Frame("s" + sequence + "-f" + f, capturedAt, capturedAt, found), capturedAt + SETTINGS.graceMs(), SETTINGS);
                for (Track track : tracker.tracks) {
                    if (track.lastSeenMs != capturedAt) {
                        continue;
                    }
                    for (Map.Entry<Frame.Found, Integer> entry : truth.entrySet()) {
                        if (entry.getKey().box().equals(track.box)) {
                            Integer before = lastTrackOf.put(entry.getValue(), track.number);
                            if (before != null && before != track.number) {
                                switches++;
                            }
                            tracked.add(entry.getValue());
                        }
                    }
                }
            }
            assertThat(tracked).as("every object of sequence %d has a track", sequence).hasSize(movers.size());
            tracksTotal += tracker.nextNumber - 1;
        }
        System.err.printf("tracker on 10 synthetic sequences x 30 frames: %d objects, %d tracks, %d id switches%n", objects, tracksTotal, switches);
        assertThat(switches).as("id switches, at most 5%% of %d tracks", tracksTotal).isLessThanOrEqualTo(tracksTotal * 5 / 100);
        assertThat(tracksTotal).as("no object split into many tracks").isLessThanOrEqualTo(objects + objects / 10);
    }

    @Test
    void aLateFrameWithinTheGraceIsTakenInCaptureOrderAndOneBeyondItIsDropped() {
        SourceTracker tracker = new SourceTracker("cam");
        Box box = new Box(10, 10, 50, 50);
        List<TrackEvent> events = new ArrayList<>(tracker.offer(arriving("f2", 2_200, 10_000, box), 10_000, SETTINGS));
        events.addAll(tracker.offer(arriving("f1", 2_100, 10_050, box), 10_050, SETTINGS)); // arrives second, captured first
        assertThat(events).as("both wait for their grace").isEmpty();
        events.addAll(tracker.tick(10_050 + SETTINGS.graceMs(), 0, SETTINGS));
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.getType()).isEqualTo(TrackEventType.NEW);
            assertThat(e.getEventIds()).containsExactly("f1");
        });
        assertThat(tracker.tracks.get(0).eventIds).containsExactly("f1", "f2");

        assertThat(tracker.offer(frame("f0", 2_000, box), 20_000, SETTINGS)).isEmpty();
        assertThat(tracker.lateFrames).isEqualTo(1);
        assertThat(tracker.pending).isEmpty();
    }

    @Test
    void anUnchangedObjectIsNotUpdatedAndATrackEndsAfterItsMissedFrames() {
        TrackerSettings settings = new TrackerSettings(0.5f, 0.3f, 0.5f, 2, 10_000, 0, 0.9f, 0.1f, 100);
        SourceTracker tracker = new SourceTracker("cam");
        List<TrackEvent> events = new ArrayList<>();
        for (int f = 0; f < 5; f++) { // still, same score: one NEW, no UPDATE
            events.addAll(tracker.offer(frame("f" + f, 1_000 + f * 100, new Box(10, 10, 50, 50)), 1_000 + f * 100, settings));
        }
        events.addAll(tracker.offer(frame("moved", 1_500, new Box(20, 10, 60, 50)), 1_500, settings));
        for (int f = 6; f < 9; f++) { // gone for three frames: ends after the second miss
            events.addAll(tracker.offer(new Frame("empty" + f, 1_000 + f * 100, 1_000 + f * 100, List.of()), 1_000 + f * 100, settings));
        }
        assertThat(events).extracting(TrackEvent::getType).containsExactly(TrackEventType.NEW, TrackEventType.UPDATE, TrackEventType.END);
        TrackEvent end = events.get(2);
        assertThat(end.getTrackId()).isEqualTo("cam/1");
        assertThat(end.getFrameCount()).isEqualTo(6);
        assertThat(end.getEventIds()).hasSize(6).endsWith("moved");
    }

    @Test
    void aSilentSourceEndsItsTracksAndTheNextTrackGetsTheNextNumber() {
        SourceTracker tracker = new SourceTracker("cam");
        tracker.offer(frame("a", 1_000, new Box(10, 10, 50, 50)), 1_000 + SETTINGS.graceMs(), SETTINGS);
        tracker.tick(2_000, 0, SETTINGS);
        long silentUntil = 1_000 + SETTINGS.graceMs() + SETTINGS.maxIdleMs();
        assertThat(tracker.tick(silentUntil, silentUntil - 1, SETTINGS)).as("a restarted task has not heard the silence yet").isEmpty();
        assertThat(tracker.tick(silentUntil, 0, SETTINGS))
                .extracting(TrackEvent::getType).containsExactly(TrackEventType.END);
        List<TrackEvent> next = tracker.offer(frame("b", 50_000, new Box(10, 10, 50, 50)), 50_000 + SETTINGS.graceMs(), SETTINGS);
        assertThat(next).extracting(TrackEvent::getTrackId).containsExactly("cam/2");
    }

    @Test
    void theStateSurvivesItsSerdeExactly() {
        SourceTracker tracker = new SourceTracker("cam/β");
        tracker.offer(frame("a", 1_000, new Box(10, 10, 50, 50)), 1_000 + SETTINGS.graceMs(), SETTINGS);
        tracker.offer(frame("b", 1_100, new Box(14, 10, 54, 50)), 1_100 + SETTINGS.graceMs(), SETTINGS);
        tracker.offer(frame("c", 1_200, new Box(18, 10, 58, 50)), 1_200, SETTINGS); // still waiting
        SourceTracker copy = SourceTrackerSerde.read(SourceTrackerSerde.write(tracker));
        assertThat(SourceTrackerSerde.write(copy)).isEqualTo(SourceTrackerSerde.write(tracker));
        assertThat(copy.pending).extracting(Frame::eventId).containsExactly("c");
        assertThat(copy.tracks.get(0).vx).isEqualTo(tracker.tracks.get(0).vx).isPositive();
    }

    private static Frame frame(String eventId, long capturedAt, Box box) {
        return new Frame(eventId, capturedAt, capturedAt, List.of(new Frame.Found("fox", "fox", 0.8f, box)));
    }

    private static Frame arriving(String eventId, long capturedAt, long arrivedAt, Box box) {
        return new Frame(eventId, capturedAt, arrivedAt, List.of(new Frame.Found("fox", "fox", 0.8f, box)));
    }

    private static float jitter(Random random) {
        return (random.nextFloat() - 0.5f) * 4;
    }
}
