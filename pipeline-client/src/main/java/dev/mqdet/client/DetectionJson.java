package dev.mqdet.client;

import dev.mqdet.events.DetectionEvent;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A detection event as plain maps and lists, ready for a JSON writer: what the command-line tools print. */
public final class DetectionJson {
    private DetectionJson() {}

    public static Map<String, Object> of(DetectionEvent event) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("eventId", event.getEventId());
        json.put("source", event.getSource());
        json.put("querySetId", event.getQuerySetId());
        json.put("querySetVersion", event.getQuerySetVersion());
        json.put("modelId", event.getModelId());
        json.put("imageWidth", event.getImageWidth());
        json.put("imageHeight", event.getImageHeight());
        json.put("detections", event.getDetections().stream().map(d -> Map.of(
                "categoryId", d.getCategoryId(),
                "label", String.valueOf(d.getLabel()),
                "score", Math.round(d.getScore() * 1000) / 1000.0,
                "box", List.of(d.getBox().getX1(), d.getBox().getY1(), d.getBox().getX2(), d.getBox().getY2()))).toList());
        var t = event.getTimings();
        json.put("timings", Map.of("queueMs", t.getQueueMs(), "batchWaitMs", t.getBatchWaitMs(), "predictorWaitMs", t.getPredictorWaitMs(),
                "inferenceMs", t.getInferenceMs(), "batchSize", t.getBatchSize()));
        return json;
    }
}
