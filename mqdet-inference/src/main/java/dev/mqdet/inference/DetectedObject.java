package dev.mqdet.inference;

/**
 * One object found: which category, how sure (sigmoid of the alignment logit), where (original image pixels), and
 * the score threshold its category ran with.
 */
public record DetectedObject(String categoryId, String label, float score, Box box, float threshold) {}
