package dev.mqdet.inference;

import java.util.List;

/**
 * One category to look for: text, exemplar embeddings (from {@link MqDetModel#encodeExemplars}), or both.
 *
 * @param label          the text query, or null for vision-only
 * @param exemplars      one vector per exemplar, each {@code feature_dim} long; empty for text-only
 * @param scoreThreshold this category's own score threshold in [0, 1], or null for the model's default
 */
public record QueryCategory(String categoryId, String label, List<float[]> exemplars, Float scoreThreshold) {
    public QueryCategory {
        exemplars = List.copyOf(exemplars);
        if (scoreThreshold != null && !(scoreThreshold >= 0 && scoreThreshold <= 1)) {
            throw new IllegalArgumentException("category '" + categoryId + "': score threshold " + scoreThreshold + " is not in [0, 1]");
        }
    }

    public QueryCategory(String categoryId, String label, List<float[]> exemplars) {
        this(categoryId, label, exemplars, null);
    }

    /** The threshold this category runs with: its own, else {@code defaultThreshold}. */
    public float threshold(float defaultThreshold) {
        return scoreThreshold != null ? scoreThreshold : defaultThreshold;
    }

    public static QueryCategory text(String categoryId, String label) {
        return new QueryCategory(categoryId, label, List.of());
    }

    public boolean hasLabel() {
        return label != null && !label.isBlank();
    }
}
