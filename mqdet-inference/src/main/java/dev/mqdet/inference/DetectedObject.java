package dev.mqdet.inference;

/**
 * One object found: which category, how sure (sigmoid of the alignment logit), where (original image pixels), the
 * score threshold its category ran with, and the exemplar its region resembles most (null when the category has no
 * exemplars or the model gives no region embedding for it).
 */
public record DetectedObject(String categoryId, String label, float score, Box box, float threshold, ExemplarMatch match) {

    public DetectedObject(String categoryId, String label, float score, Box box, float threshold) {
        this(categoryId, label, score, box, threshold, null);
    }
}
