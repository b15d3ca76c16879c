package dev.mqdet.inference;

import java.util.List;

/**
 * One category to look for: text, exemplar embeddings (from {@link MqDetModel#encodeExemplars}), or both.
 *
 * @param label     the text query, or null for vision-only
 * @param exemplars one vector per exemplar, each {@code feature_dim} long; empty for text-only
 */
public record QueryCategory(String categoryId, String label, List<float[]> exemplars) {
    public QueryCategory {
        exemplars = List.copyOf(exemplars);
    }

    public static QueryCategory text(String categoryId, String label) {
        return new QueryCategory(categoryId, label, List.of());
    }

    public boolean hasLabel() {
        return label != null && !label.isBlank();
    }
}
