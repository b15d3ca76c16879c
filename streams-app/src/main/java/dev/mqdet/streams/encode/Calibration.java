package dev.mqdet.streams.encode;

import dev.mqdet.inference.Box;
import dev.mqdet.inference.DetectedObject;
import dev.mqdet.inference.MqDetModel;
import dev.mqdet.inference.QueryCategory;
import java.util.ArrayList;
import java.util.List;

/**
 * A category's score threshold from its own exemplars, with no labels beyond their boxes: each exemplar image is
 * detected with the other exemplars (and the label) as the query; the score on the exemplar's own object is a
 * positive, the score of anything found away from every exemplar box of that image is a negative, and the threshold
 * is the one that keeps the most positives over negatives. The model's scores mean different things per category;
 * this puts each category's cut where its own look-alikes fall.
 *
 * <p>Runs when a category is encoded, never per image event: a few detector forwards per category.
 */
public final class Calibration {

    /** Scores below this are not looked at (the evaluator's floor); the lowest threshold calibration gives. */
    static final float FLOOR = 0.05f;
    /** The highest threshold calibration gives: above it a category would report almost nothing. */
    static final float CEILING = 0.9f;
    static final double OWN_IOU = 0.5;
    static final double AWAY_IOU = 0.3;

    private Calibration() {}

    /** One exemplar: its image, its box, its vector. */
    public record Shot(byte[] image, Box box, float[] vector) {}

    /** The calibrated threshold, or null when there are fewer than two exemplars (leave-one-out needs two). */
    public static Float threshold(MqDetModel model, String categoryId, String label, List<Shot> shots) {
        if (shots.size() < 2) {
            return null;
        }
        List<Float> positives = new ArrayList<>();
        List<Float> negatives = new ArrayList<>();
        for (int i = 0; i < shots.size(); i++) {
            Shot held = shots.get(i);
            List<float[]> others = new ArrayList<>();
            List<Box> boxesInImage = new ArrayList<>();
            for (int j = 0; j < shots.size(); j++) {
                if (j != i) {
                    others.add(shots.get(j).vector());
                }
                if (java.util.Arrays.equals(shots.get(j).image(), held.image())) {
                    boxesInImage.add(shots.get(j).box());
                }
            }
            QueryCategory query = new QueryCategory(categoryId, label, others, FLOOR);
            List<DetectedObject> found = model.detect(List.of(held.image()), List.of(query)).get(0);
            float own = 0;
            for (DetectedObject d : found) {
                if (d.box().iou(held.box()) >= OWN_IOU) {
                    own = Math.max(own, d.score());
                } else if (boxesInImage.stream().allMatch(b -> d.box().iou(b) < AWAY_IOU)) {
                    negatives.add(d.score());
                }
            }
            positives.add(own);
        }
        return choose(positives, negatives);
    }

    /**
     * The threshold that keeps the most positives over negatives (positives above it minus negatives above it),
     * the lowest such, between {@link #FLOOR} and {@link #CEILING}: cuts lie just above a negative score. Null when there
     * is no negative.
     */
    static Float choose(List<Float> positives, List<Float> negatives) {
        if (negatives.isEmpty()) {
            return null; // nothing was confused with the category in its own images: no evidence to move the default
        }
        List<Float> candidates = new ArrayList<>();
        candidates.add(FLOOR);
        for (float n : negatives) {
            candidates.add(Math.min(CEILING, n + 1e-3f));
        }
        float best = FLOOR;
        long bestGain = Long.MIN_VALUE;
        for (float t : candidates) {
            long gain = positives.stream().filter(p -> p > t).count() - negatives.stream().filter(n -> n > t).count();
            if (gain > bestGain || (gain == bestGain && t < best)) {
                bestGain = gain;
                best = t;
            }
        }
        return Math.max(FLOOR, Math.min(CEILING, best));
    }
}
