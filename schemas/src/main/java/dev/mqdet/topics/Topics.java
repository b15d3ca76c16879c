package dev.mqdet.topics;

import dev.mqdet.events.DeadLetter;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ExemplarEmbedding;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.TrackEvent;
import java.util.List;

/** The catalogue of the pipeline's topics: one place that names each topic, its types and its keys. */
public final class Topics {
    private Topics() {}

    /** Image events from producers. */
    public static final Topic<ImageEvent> IMAGES =
            new Topic<>("images", ImageEvent.class, false, "eventId (or source, for per-source ordering)");

    /** What to look for: one record per category, written by the exemplar registry. */
    public static final Topic<ExemplarQuery> EXEMPLAR_QUERIES =
            new Topic<>("exemplar-queries", ExemplarQuery.class, true, "querySetId/categoryId");

    /** Exemplar queries encoded by a model, written by the streams app. */
    public static final Topic<ExemplarEmbedding> EXEMPLAR_EMBEDDINGS =
            new Topic<>("exemplar-embeddings", ExemplarEmbedding.class, true, "modelId/querySetId/categoryId");

    /** What was found, one event per image event. */
    public static final Topic<DetectionEvent> DETECTIONS =
            new Topic<>("detections", DetectionEvent.class, false, "eventId");

    /** Objects followed over a source's frames: new, update, end. */
    public static final Topic<TrackEvent> TRACKS =
            new Topic<>("tracks", TrackEvent.class, false, "trackId (source/N)");

    /** Image events that could not be processed, with the reason. */
    public static final Topic<DeadLetter> IMAGES_DLQ =
            new Topic<>("images-dlq", DeadLetter.class, false, "the original record's key");

    /** Exemplar-query records the streams app could not decode or encode, with the reason. */
    public static final Topic<DeadLetter> EXEMPLAR_QUERIES_DLQ =
            new Topic<>("exemplar-queries-dlq", DeadLetter.class, false, "the original record's key");

    public static final List<Topic<?>> ALL = List.of(IMAGES, EXEMPLAR_QUERIES, EXEMPLAR_EMBEDDINGS, DETECTIONS, TRACKS,
            IMAGES_DLQ, EXEMPLAR_QUERIES_DLQ);
}
