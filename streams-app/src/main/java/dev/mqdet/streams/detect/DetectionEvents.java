package dev.mqdet.streams.detect;

import dev.mqdet.events.BoundingBox;
import dev.mqdet.events.Detection;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.Timings;
import dev.mqdet.inference.DetectedObject;
import dev.mqdet.streams.detect.QuerySets.QuerySet;
import java.time.Instant;
import java.util.List;

/** The model's findings for one image event, as the {@code detections} topic carries them. */
public final class DetectionEvents {
    private DetectionEvents() {}

    static DetectionEvent of(Pending pending, QuerySet querySet, String modelId, int width, int height,
                                    List<DetectedObject> found, Timings timings) {
        return DetectionEvent.newBuilder()
                .setEventId(pending.event().getEventId())
                .setSource(pending.event().getSource())
                .setQuerySetId(querySet.querySetId())
                .setQuerySetVersion(querySet.version())
                .setModelId(modelId)
                .setImageWidth(width)
                .setImageHeight(height)
                .setDetections(found.stream().map(DetectionEvents::toEvent).toList())
                .setTimings(timings)
                .setAttributes(pending.event().getAttributes())
                .setDetectedAtMs(Instant.now())
                .setCapturedAtMs(pending.event().getCapturedAtMs())
                .build();
    }

    /** One model detection as the topic carries it. */
    public static Detection toEvent(DetectedObject d) {
        return new Detection(d.categoryId(), d.label(), d.score(), new BoundingBox(d.box().x1(), d.box().y1(), d.box().x2(), d.box().y2()),
                d.threshold(), d.match() == null ? null : d.match().exemplarId(), d.match() == null ? null : d.match().similarity());
    }
}
