package dev.mqdet.registry.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mqdet.events.BoundingBox;
import dev.mqdet.events.Detection;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.registry.live.LiveFeed;
import dev.mqdet.registry.store.QuerySetStore;
import dev.mqdet.registry.validation.CategoryValidator;
import dev.mqdet.registry.validation.CategoryValidator.ExemplarInput;
import dev.mqdet.registry.validation.CategoryValidator.ValidExemplar;
import dev.mqdet.registry.validation.FieldError;
import dev.mqdet.registry.validation.Ids;
import dev.mqdet.registry.validation.RefusedException;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.List;

/**
 * Feedback on a live detection, {@code POST /api/query-sets/{querySetId}/feedback} with {@code {"eventId": ..,
 * "detection": index, "verdict": "confirm" | "reject"}}: the detected box in that event's image becomes a positive
 * exemplar of its category (confirm) or a negative one (reject). An ordinary registry write, through the same
 * validation as any exemplar; the image comes from the live view, which keeps the latest events only, so an old
 * event is answered 410 Gone with what the view keeps.
 */
final class FeedbackRoutes {

    record FeedbackJson(String verdict, String exemplarId, Json.CategoryJson category) {}

    private final LiveFeed feed;
    private final QuerySetStore store;
    private final CategoryValidator validator;
    private final RequestReader reader;
    private final String principal;

    FeedbackRoutes(LiveFeed feed, QuerySetStore store, CategoryValidator validator, RequestReader reader, String principal) {
        this.feed = feed;
        this.store = store;
        this.validator = validator;
        this.reader = reader;
        this.principal = principal;
    }

    void register(Javalin app) {
        app.post(QuerySetRoutes.QS + "/feedback", this::feedback);
    }

    private void feedback(Context ctx) {
        String querySetId = Ids.require("querySetId", ctx.pathParam("querySetId"));
        JsonNode body = reader.object(ctx);
        List<FieldError> errors = new ArrayList<>();
        String eventId = RequestReader.text(body, "eventId", "eventId", errors);
        String verdict = RequestReader.text(body, "verdict", "verdict", errors);
        JsonNode index = body.get("detection");
        if (eventId == null && errors.isEmpty()) {
            errors.add(new FieldError("eventId", "is missing"));
        }
        if (!"confirm".equals(verdict) && !"reject".equals(verdict)) {
            errors.add(new FieldError("verdict", "must be \"confirm\" (add as exemplar) or \"reject\" (not this: a negative exemplar)"));
        }
        if (index == null || !index.canConvertToInt() || !index.isIntegralNumber() || index.asInt() < 0) {
            errors.add(new FieldError("detection", "must be the index of the detection in the event (0, 1, ...)"));
        }
        if (!errors.isEmpty()) {
            throw RefusedException.invalid(errors);
        }
        DetectionEvent event = feed.event(eventId).orElseThrow(() -> RefusedException.gone("event " + eventId
                + " is not in the live view any more (it keeps the latest " + feed.capacity() + " detection events)"));
        if (!event.getQuerySetId().equals(querySetId)) {
            throw RefusedException.invalid("eventId", "event " + eventId + " was detected with query set " + event.getQuerySetId()
                    + ", not " + querySetId);
        }
        if (index.asInt() >= event.getDetections().size()) {
            throw RefusedException.invalid("detection", "event " + eventId + " has " + event.getDetections().size() + " detections");
        }
        LiveFeed.Image image = feed.image(eventId).orElseThrow(() -> RefusedException.gone("the image of event " + eventId
                + " is not held any more (the live view keeps recent inline images within a byte budget; images by URI are never held)"));
        Detection detection = event.getDetections().get(index.asInt());
        BoundingBox b = detection.getBox();
        // the model's box may reach past the image by a fraction of a pixel; the exemplar must lie inside it
        float x1 = clamp(b.getX1(), event.getImageWidth());
        float y1 = clamp(b.getY1(), event.getImageHeight());
        float x2 = clamp(b.getX2(), event.getImageWidth());
        float y2 = clamp(b.getY2(), event.getImageHeight());
        List<ValidExemplar> valid = validator.exemplars(List.of(new ExemplarInput(null, image.data(), image.mediaType(), x1, y1, x2, y2)));
        String by = principal + "/feedback";
        String categoryId = detection.getCategoryId();
        ExemplarQuery written = "confirm".equals(verdict)
                ? store.addExemplars(querySetId, categoryId, valid, by)
                : store.addNegatives(querySetId, categoryId, valid, by);
        var added = "confirm".equals(verdict) ? written.getExemplars() : written.getNegatives();
        ctx.status(201).json(new FeedbackJson(verdict, added.get(added.size() - 1).getExemplarId(), Json.category(written)));
    }

    private static float clamp(float v, int max) {
        return Math.max(0, Math.min(v, max));
    }
}
