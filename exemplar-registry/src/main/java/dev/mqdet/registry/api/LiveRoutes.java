package dev.mqdet.registry.api;

import dev.mqdet.images.SafeImageReader;
import dev.mqdet.events.Detection;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.registry.live.LiveFeed;
import dev.mqdet.registry.validation.RefusedException;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.util.List;
import java.util.Map;

/** The live view's data: recent detection events (polled with {@code after}) and the images they were made on. */
final class LiveRoutes {

    record DetectionJson(String categoryId, String label, float score, Json.Box box, String matchedExemplarId, Float similarity) {}

    record EventJson(long seq, String eventId, String source, String querySetId, long querySetVersion, String modelId,
                     int imageWidth, int imageHeight, long detectedAtMs, boolean hasImage, String imageUrl,
                     List<DetectionJson> detections) {}

    private final LiveFeed feed;

    LiveRoutes(LiveFeed feed) {
        this.feed = feed;
    }

    void register(Javalin app) {
        app.get("/api/live/detections", this::detections);
        app.get("/api/live/images/{eventId}", this::image);
    }

    private void detections(Context ctx) {
        long after;
        try {
            after = Long.parseLong(ctx.queryParamAsClass("after", String.class).getOrDefault("0"));
        } catch (NumberFormatException e) {
            throw RefusedException.invalid("after", "must be a whole number (the last seq you have)");
        }
        List<EventJson> events = feed.since(after).stream().map(LiveRoutes::event).toList();
        long last = events.isEmpty() ? after : events.get(events.size() - 1).seq();
        ctx.json(Map.of("events", events, "last", last));
    }

    private static EventJson event(LiveFeed.Item item) {
        DetectionEvent e = item.event();
        List<DetectionJson> detections = e.getDetections().stream()
                .map((Detection d) -> new DetectionJson(d.getCategoryId(), d.getLabel(), d.getScore(), Json.Box.of(d.getBox()),
                        d.getMatchedExemplarId(), d.getSimilarity()))
                .toList();
        return new EventJson(item.seq(), e.getEventId(), e.getSource(), e.getQuerySetId(), e.getQuerySetVersion(), e.getModelId(),
                e.getImageWidth(), e.getImageHeight(), e.getDetectedAtMs().toEpochMilli(), item.hasImage(),
                item.hasImage() ? "/api/live/images/" + encode(e.getEventId()) : null, detections);
    }

    private void image(Context ctx) {
        String eventId = ctx.pathParam("eventId");
        LiveFeed.Image image = feed.image(eventId)
                .orElseThrow(() -> RefusedException.notFound("no recent image for event " + eventId));
        String sniffed = SafeImageReader.sniff(image.data());
        String type = sniffed == null ? null : "image/" + sniffed; // the bytes decide, not the producer's label
        ctx.contentType("image/png".equals(type) || "image/jpeg".equals(type) ? type : "application/octet-stream");
        ctx.result(image.data());
    }

    private static String encode(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }
}
