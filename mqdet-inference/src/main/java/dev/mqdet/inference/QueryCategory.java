package dev.mqdet.inference;

import java.util.List;

/**
 * One category to look for: text, exemplar embeddings (from {@link MqDetModel#encodeExemplars}), or both.
 *
 * @param label               the text query, or null for vision-only
 * @param exemplars           one vector per exemplar, each {@code feature_dim} long; empty for text-only
 * @param exemplarIds         the id of each exemplar, in the same order (detections name the one they match best);
 *                            empty when the caller has no ids
 * @param negatives           vectors of things that are NOT this category (look-alikes an operator rejected): a
 *                            detection whose region is closer to one of them than to every positive exemplar is
 *                            dropped; empty for none
 * @param scoreThreshold      this category's own score threshold in [0, 1] (an operator's), or null
 * @param calibratedThreshold the threshold calibrated from its exemplars, or null
 */
public record QueryCategory(String categoryId, String label, List<float[]> exemplars, List<String> exemplarIds,
                            List<float[]> negatives, Float scoreThreshold, Float calibratedThreshold) {
    public QueryCategory {
        exemplars = List.copyOf(exemplars);
        exemplarIds = List.copyOf(exemplarIds);
        negatives = List.copyOf(negatives);
        if (!exemplarIds.isEmpty() && exemplarIds.size() != exemplars.size()) {
            throw new IllegalArgumentException("category '" + categoryId + "': " + exemplarIds.size() + " exemplar ids for "
                    + exemplars.size() + " exemplars");
        }
        check(categoryId, scoreThreshold);
        check(categoryId, calibratedThreshold);
    }

    public QueryCategory(String categoryId, String label, List<float[]> exemplars, Float scoreThreshold, Float calibratedThreshold) {
        this(categoryId, label, exemplars, List.of(), List.of(), scoreThreshold, calibratedThreshold);
    }

    public QueryCategory(String categoryId, String label, List<float[]> exemplars, Float scoreThreshold) {
        this(categoryId, label, exemplars, scoreThreshold, null);
    }

    public QueryCategory(String categoryId, String label, List<float[]> exemplars) {
        this(categoryId, label, exemplars, null, null);
    }

    /**
     * The threshold this category runs with: its own when an operator set one; else the calibrated one, but never
     * below {@code defaultThreshold}: calibration from a handful of exemplar images can show that a category needs a
     * higher cut (its look-alikes score high), not that the operator's floor is too cautious.
     */
    public float threshold(float defaultThreshold) {
        if (scoreThreshold != null) {
            return scoreThreshold;
        }
        return calibratedThreshold != null ? Math.max(defaultThreshold, calibratedThreshold) : defaultThreshold;
    }

    private static void check(String categoryId, Float threshold) {
        if (threshold != null && !(threshold >= 0 && threshold <= 1)) {
            throw new IllegalArgumentException("category '" + categoryId + "': score threshold " + threshold + " is not in [0, 1]");
        }
    }

    public static QueryCategory text(String categoryId, String label) {
        return new QueryCategory(categoryId, label, List.of());
    }

    public boolean hasLabel() {
        return label != null && !label.isBlank();
    }

    /** Whether a detection of this category needs its region's embedding (for evidence or negatives). */
    boolean comparesRegions() {
        return !exemplars.isEmpty() || !negatives.isEmpty();
    }
}
