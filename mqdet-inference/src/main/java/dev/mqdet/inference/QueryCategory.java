package dev.mqdet.inference;

import java.util.List;

/**
 * One category to look for: text, exemplar embeddings (from {@link MqDetModel#encodeExemplars}), or both.
 *
 * @param label          the text query, or null for vision-only
 * @param exemplars      one vector per exemplar, each {@code feature_dim} long; empty for text-only
 * @param scoreThreshold      this category's own score threshold in [0, 1] (an operator's), or null
 * @param calibratedThreshold the threshold calibrated from its exemplars, or null
 */
public record QueryCategory(String categoryId, String label, List<float[]> exemplars, Float scoreThreshold, Float calibratedThreshold) {
    public QueryCategory {
        exemplars = List.copyOf(exemplars);
        check(categoryId, scoreThreshold);
        check(categoryId, calibratedThreshold);
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
}
