package dev.mqdet.client;

import dev.mqdet.events.TrackEvent;
import dev.mqdet.events.TrackEventType;
import dev.mqdet.inference.Box;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Scores track events against sequences with known identities, as CLEAR-MOT counts identity switches: each
 * {@code NEW} or {@code UPDATE} is matched (same category, IoU at least 0.5) to the true object of the frame it
 * reports; an object whose matched track id differs from its previous one is a switch.
 */
public final class TrackScoring {
    private TrackScoring() {}

    /** What the tracks came to. */
    public record Summary(int tracks, int frames, int idSwitches, int objects, int objectsTracked, int duplicateLifecycleEvents) {
        public String line() {
            return String.format("tracks: %d tracks over %d frames, %d id switches", tracks, frames, idSwitches);
        }
    }

    /** The events of the sequences' sources only (other sources' tracks share the topic). */
    public static List<TrackEvent> ofSequences(List<MovingScenes.Frame> frames, List<TrackEvent> events) {
        Set<String> sources = frames.stream().map(MovingScenes.Frame::source).collect(Collectors.toSet());
        return events.stream().filter(e -> sources.contains(e.getSource())).toList();
    }

    /** Every sequence has tracks, and each of them has ended. */
    public static boolean everyTrackEnded(List<MovingScenes.Frame> frames, List<TrackEvent> events) {
        Map<String, Long> open = new HashMap<>();
        frames.forEach(f -> open.put(f.source(), 0L));
        Set<String> started = new HashSet<>();
        for (TrackEvent e : ofSequences(frames, events)) {
            if (e.getType() == TrackEventType.NEW) {
                started.add(e.getSource());
                open.merge(e.getSource(), 1L, Long::sum);
            } else if (e.getType() == TrackEventType.END) {
                open.merge(e.getSource(), -1L, Long::sum);
            }
        }
        return started.size() == open.size() && open.values().stream().allMatch(n -> n <= 0);
    }

    public static Summary score(List<MovingScenes.Frame> frames, List<TrackEvent> all) {
        List<TrackEvent> events = ofSequences(frames, all);
        Map<String, MovingScenes.Frame> byEventId = new HashMap<>();
        Set<String> objects = new HashSet<>();
        for (MovingScenes.Frame frame : frames) {
            byEventId.put(frame.eventId(), frame);
            frame.objects().forEach(o -> objects.add(frame.source() + "#" + o.objectId()));
        }
        Set<String> tracks = new HashSet<>();
        Set<String> lifecycle = new HashSet<>();
        Map<String, String> lastTrackOf = new HashMap<>();
        int duplicates = 0;
        int switches = 0;
        List<TrackEvent> inCaptureOrder = new ArrayList<>(events); // tracks come from several partitions
        inCaptureOrder.sort(Comparator.comparing(TrackEvent::getLastSeenMs));
        for (TrackEvent event : inCaptureOrder) {
            tracks.add(event.getTrackId());
            String step = event.getTrackId() + " " + event.getType()
                    + (event.getType() == TrackEventType.UPDATE ? " " + event.getLastSeenMs().toEpochMilli() : "");
            if (!lifecycle.add(step)) {
                duplicates++;
            }
            if (event.getType() == TrackEventType.END || event.getEventIds().isEmpty()) {
                continue;
            }
            MovingScenes.Frame frame = byEventId.get(event.getEventIds().get(event.getEventIds().size() - 1));
            if (frame == null) {
                continue;
            }
            Box box = new Box(event.getBox().getX1(), event.getBox().getY1(), event.getBox().getX2(), event.getBox().getY2());
            MovingScenes.TrueObject best = null;
            double bestIou = 0.5;
            for (MovingScenes.TrueObject object : frame.objects()) {
                double iou = object.box().iou(box);
                if (object.categoryId().equals(event.getCategoryId()) && iou >= bestIou) {
                    best = object;
                    bestIou = iou;
                }
            }
            if (best != null) {
                String before = lastTrackOf.put(frame.source() + "#" + best.objectId(), event.getTrackId());
                if (before != null && !before.equals(event.getTrackId())) {
                    switches++;
                }
            }
        }
        return new Summary(tracks.size(), frames.size(), switches, objects.size(), lastTrackOf.size(), duplicates);
    }
}
