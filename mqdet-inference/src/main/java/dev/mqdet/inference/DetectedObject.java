package dev.mqdet.inference;

/** One object found: which category, how sure (sigmoid of the alignment logit), and where (original image pixels). */
public record DetectedObject(String categoryId, String label, float score, Box box) {}
