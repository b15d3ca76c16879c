package dev.mqdet.topics;

/** Limits on an exemplar query that the registry (which refuses more) and the streams app (which encodes) share. */
public final class QueryLimits {

    /**
     * Negative exemplars per category. They never enter the detector, only the comparison after it, so the model's
     * exemplar limit does not apply; this bound keeps the comparison and the record small.
     */
    public static final int MAX_NEGATIVES_PER_CATEGORY = 32;

    private QueryLimits() {}
}
