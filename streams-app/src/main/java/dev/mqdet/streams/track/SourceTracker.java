package dev.mqdet.streams.track;

import dev.mqdet.events.BoundingBox;
import dev.mqdet.events.TrackEvent;
import dev.mqdet.events.TrackEventType;
import dev.mqdet.inference.Box;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The tracks of one source, in the ByteTrack manner: each frame's high-score detections are matched to the
 * tracks' predicted boxes first (same category, greedy by IoU), then the low-score ones, which keep tracks alive
 * but never start one; unmatched high-score detections start tracks, and a track ends after too many frames
 * without a match or when its source falls silent.
 *
 * <p>Frames are taken in capture order: each waits up to the grace period for earlier frames that arrive late;
 * a frame older than one already taken is dropped (counted by the caller) rather than rewriting history.
 */
final class SourceTracker {

    /** Frames a source may have waiting; beyond it the oldest is taken at once. */
    static final int MAX_PENDING_FRAMES = 1_000;

    final String source;
    int nextNumber = 1;
    long lastTakenCaptureMs = Long.MIN_VALUE;
    long lastArrivalMs;
    final List<Track> tracks = new ArrayList<>();
    final List<Frame> pending = new ArrayList<>(); // by capture time
    int lateFrames; // since the caller last asked

    SourceTracker(String source) {
        this.source = source;
    }

    /** A frame arrived: waits for its grace, unless later frames already show it will get no earlier company. */
    List<TrackEvent> offer(Frame frame, long nowMs, TrackerSettings settings) {
        lastArrivalMs = nowMs;
        if (frame.capturedAtMs() <= lastTakenCaptureMs) {
            lateFrames++;
            return List.of();
        }
        int at = 0;
        while (at < pending.size() && pending.get(at).capturedAtMs() <= frame.capturedAtMs()) {
            at++;
        }
        pending.add(at, frame);
        long newest = pending.get(pending.size() - 1).capturedAtMs();
        return release(frame0 -> frame0.capturedAtMs() <= newest - settings.graceMs() || nowMs - frame0.arrivedAtMs() >= settings.graceMs(),
                nowMs, settings);
    }

    /**
     * On a tick: takes frames whose grace is over, and ends every track of a source silent for too long. Silence
     * counts from {@code listeningSinceMs} at the earliest (when this task started): while the pipeline was down
     * the source may well have sent frames that are still to be read.
     */
    List<TrackEvent> tick(long nowMs, long listeningSinceMs, TrackerSettings settings) {
        List<TrackEvent> events = release(frame -> nowMs - frame.arrivedAtMs() >= settings.graceMs(), nowMs, settings);
        if (pending.isEmpty() && !tracks.isEmpty() && nowMs - Math.max(lastArrivalMs, listeningSinceMs) >= settings.maxIdleMs()) {
            for (Track track : tracks) {
                events.add(event(track, TrackEventType.END, nowMs));
            }
            tracks.clear();
        }
        return events;
    }

    /** Nothing to remember: the store entry can go (the track numbers start again only if the source is gone for good). */
    boolean isEmpty() {
        return tracks.isEmpty() && pending.isEmpty();
    }

    private List<TrackEvent> release(java.util.function.Predicate<Frame> due, long nowMs, TrackerSettings settings) {
        List<TrackEvent> events = new ArrayList<>();
        while (!pending.isEmpty() && (due.test(pending.get(0)) || pending.size() > MAX_PENDING_FRAMES)) {
            Frame frame = pending.remove(0);
            lastTakenCaptureMs = frame.capturedAtMs();
            step(frame, nowMs, settings, events);
        }
        return events;
    }

    private void step(Frame frame, long nowMs, TrackerSettings settings, List<TrackEvent> events) {
        List<Frame.Found> high = new ArrayList<>();
        List<Frame.Found> low = new ArrayList<>();
        for (Frame.Found found : frame.detections()) {
            (found.score() >= settings.highScore() ? high : low).add(found);
        }
        List<Track> unmatched = new ArrayList<>(tracks);
        List<Frame.Found> newHigh = match(unmatched, high, settings.matchIou(), frame, nowMs, settings, events);
        match(unmatched, low, settings.lowMatchIou(), frame, nowMs, settings, events);
        for (Track track : unmatched) {
            if (++track.missed > settings.maxMissedFrames()) {
                tracks.remove(track);
                events.add(event(track, TrackEventType.END, nowMs));
            }
        }
        for (Frame.Found found : newHigh) {
            Track track = new Track(nextNumber++, found.categoryId(), found.label(), found.box(), found.score(), frame.capturedAtMs());
            track.frameCount = 1;
            track.addEventId(frame.eventId(), settings.maxEventIds());
            published(track);
            tracks.add(track);
            events.add(event(track, TrackEventType.NEW, nowMs));
        }
    }

    /** Greedy assignment by IoU, highest first; matched tracks leave {@code unmatched}. Returns the detections left over. */
    private List<Frame.Found> match(List<Track> unmatched, List<Frame.Found> detections, float minIou, Frame frame, long nowMs,
                                    TrackerSettings settings, List<TrackEvent> events) {
        record Pair(Track track, Frame.Found found, double iou) {}
        List<Pair> pairs = new ArrayList<>();
        for (Track track : unmatched) {
            Box predicted = track.predicted(frame.capturedAtMs());
            for (Frame.Found found : detections) {
                if (!found.categoryId().equals(track.categoryId)) {
                    continue;
                }
                double iou = predicted.iou(found.box());
                if (iou >= minIou) {
                    pairs.add(new Pair(track, found, iou));
                }
            }
        }
        pairs.sort(Comparator.comparingDouble(Pair::iou).reversed());
        List<Frame.Found> left = new ArrayList<>(detections);
        for (Pair pair : pairs) {
            if (!unmatched.contains(pair.track()) || !left.contains(pair.found())) {
                continue;
            }
            unmatched.remove(pair.track());
            left.remove(pair.found());
            Track track = pair.track();
            track.seen(pair.found().box(), pair.found().score(), frame.capturedAtMs(), frame.eventId(), settings.maxEventIds());
            if (track.publishedBox.iou(track.box) < settings.updateIou()
                    || Math.abs(track.score - track.publishedScore) > settings.updateScoreDelta()) {
                published(track);
                events.add(event(track, TrackEventType.UPDATE, nowMs));
            }
        }
        return left;
    }

    private static void published(Track track) {
        track.publishedBox = track.box;
        track.publishedScore = track.score;
    }

    private TrackEvent event(Track track, TrackEventType type, long nowMs) {
        Box b = track.box;
        return TrackEvent.newBuilder()
                .setTrackId(track.trackId(source))
                .setType(type)
                .setSource(source)
                .setCategoryId(track.categoryId)
                .setLabel(track.label)
                .setBox(new BoundingBox(b.x1(), b.y1(), b.x2(), b.y2()))
                .setScore(track.score)
                .setBestScore(track.bestScore)
                .setFirstSeenMs(Instant.ofEpochMilli(track.firstSeenMs))
                .setLastSeenMs(Instant.ofEpochMilli(track.lastSeenMs))
                .setFrameCount(track.frameCount)
                .setEventIds(new ArrayList<>(track.eventIds))
                .setEmittedAtMs(Instant.ofEpochMilli(nowMs))
                .build();
    }
}
