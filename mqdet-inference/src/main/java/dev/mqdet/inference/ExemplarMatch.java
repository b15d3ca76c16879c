package dev.mqdet.inference;

/**
 * Why a detection fired: the positive exemplar its region is most similar to (cosine similarity of the model's box
 * embedding with the exemplar's vector, in [-1, 1]). {@code exemplarId} is null when the query carried no ids.
 */
public record ExemplarMatch(String exemplarId, float similarity) {}
