package dev.mqdet.streams.track;

import dev.mqdet.events.DetectionEvent;
import dev.mqdet.inference.Box;
import java.util.List;

/** One frame of a source as the tracker sees it: its capture time, when it reached the tracker, and its detections. */
record Frame(String eventId, long capturedAtMs, long arrivedAtMs, List<Found> detections) {

    /** One detection of the frame. */
    record Found(String categoryId, String label, float score, Box box) {}

    /** A detection event as a frame; capture time from the event, else the record's timestamp. */
    static Frame of(DetectionEvent event, long recordTimestampMs, long nowMs) {
        long capturedAt = event.getCapturedAtMs() != null ? event.getCapturedAtMs().toEpochMilli() : recordTimestampMs;
        List<Found> found = event.getDetections().stream().map(d -> new Found(d.getCategoryId(), d.getLabel(), d.getScore(),
                new Box(d.getBox().getX1(), d.getBox().getY1(), d.getBox().getX2(), d.getBox().getY2()))).toList();
        return new Frame(event.getEventId(), capturedAt, nowMs, found);
    }
}
