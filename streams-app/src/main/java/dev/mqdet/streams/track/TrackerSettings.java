package dev.mqdet.streams.track;

/**
 * How the tracker associates detections and when it speaks.
 *
 * @param highScore        detections at or above it are matched first and may start tracks (ByteTrack's first pass)
 * @param matchIou         least IoU between a track's predicted box and a high-score detection to match (ByteTrack: 0.2)
 * @param lowMatchIou      least IoU for the second pass, low-score detections, which only keep tracks alive
 * @param maxMissedFrames  a track ends after this many frames of its source without it
 * @param maxIdleMs        ... or after this long (wall clock) without any frame from its source
 * @param graceMs          how long a frame waits for earlier frames of its source that arrive late
 * @param updateIou        an update is published only when the box moved below this IoU with the last published one ...
 * @param updateScoreDelta ... or the score changed by more than this
 * @param maxEventIds      event ids a track keeps (the newest)
 */
public record TrackerSettings(float highScore, float matchIou, float lowMatchIou, int maxMissedFrames, long maxIdleMs,
                              long graceMs, float updateIou, float updateScoreDelta, int maxEventIds) {

    public static TrackerSettings defaults() {
        return new TrackerSettings(0.5f, 0.2f, 0.5f, 30, 10_000, 500, 0.9f, 0.1f, 100);
    }
}
