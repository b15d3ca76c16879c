package dev.mqdet.inference.eval;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * COCO-style box AP, the same algorithm as the Python evaluator ({@code training/mqdet/coco_eval.py}) so the two
 * agree: IoU thresholds .50:.05:.95, 101 recall points, maxDets 100 per image and category, greedy matching of
 * score-sorted detections to the best unmatched ground truth, precision envelope from the right. A category
 * without ground truth is skipped; AP of a set is the mean over its categories, then over IoU thresholds.
 */
public final class CocoEvaluator {

    public static final double[] IOU_THRESHOLDS = {0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95};
    private static final int RECALL_POINTS = 101;
    private static final int MAX_DETS = 100;

    /** A box as COCO writes it: x, y, width, height in pixels. */
    public record XYWH(double x, double y, double w, double h) {}

    public record GroundTruth(int imageId, int categoryId, XYWH box) {}

    public record Scored(int imageId, int categoryId, XYWH box, double score) {}

    /** AP per category over the ten IoU thresholds, for the categories that have ground truth. */
    public static Map<Integer, double[]> evaluate(List<GroundTruth> truths, List<Scored> detections, List<Integer> categoryIds) {
        Map<Long, List<XYWH>> gts = new HashMap<>();
        Map<Long, List<Scored>> dts = new HashMap<>();
        TreeSet<Integer> images = new TreeSet<>();
        for (GroundTruth g : truths) {
            gts.computeIfAbsent(key(g.imageId(), g.categoryId()), k -> new ArrayList<>()).add(g.box());
            images.add(g.imageId());
        }
        for (Scored d : detections) {
            dts.computeIfAbsent(key(d.imageId(), d.categoryId()), k -> new ArrayList<>()).add(d);
            images.add(d.imageId());
        }
        int thresholds = IOU_THRESHOLDS.length;
        Map<Integer, double[]> result = new HashMap<>();
        for (int category : categoryIds) {
            int positives = 0;
            for (int image : images) {
                positives += gts.getOrDefault(key(image, category), List.of()).size();
            }
            if (positives == 0) {
                continue;
            }
            List<Double> scores = new ArrayList<>();
            List<boolean[]> matches = new ArrayList<>(); // per detection: matched at each threshold
            for (int image : images) {
                List<Scored> found = new ArrayList<>(dts.getOrDefault(key(image, category), List.of()));
                if (found.isEmpty()) {
                    continue;
                }
                found.sort(Comparator.comparingDouble(d -> -d.score())); // stable, like numpy's mergesort
                if (found.size() > MAX_DETS) {
                    found = found.subList(0, MAX_DETS);
                }
                List<XYWH> truth = gts.getOrDefault(key(image, category), List.of());
                double[][] ious = new double[found.size()][truth.size()];
                for (int d = 0; d < found.size(); d++) {
                    for (int g = 0; g < truth.size(); g++) {
                        ious[d][g] = iou(found.get(d).box(), truth.get(g));
                    }
                }
                boolean[][] matched = new boolean[found.size()][thresholds];
                for (int t = 0; t < thresholds; t++) {
                    boolean[] used = new boolean[truth.size()];
                    for (int d = 0; d < found.size(); d++) {
                        double best = Math.min(IOU_THRESHOLDS[t], 1 - 1e-10);
                        int bestGt = -1;
                        for (int g = 0; g < truth.size(); g++) {
                            if (used[g] || ious[d][g] < best) {
                                continue;
                            }
                            best = ious[d][g];
                            bestGt = g;
                        }
                        if (bestGt >= 0) {
                            used[bestGt] = true;
                            matched[d][t] = true;
                        }
                    }
                }
                for (int d = 0; d < found.size(); d++) {
                    scores.add(found.get(d).score());
                    matches.add(matched[d]);
                }
            }
            double[] ap = new double[thresholds];
            if (!scores.isEmpty()) {
                Integer[] order = new Integer[scores.size()];
                for (int i = 0; i < order.length; i++) {
                    order[i] = i;
                }
                java.util.Arrays.sort(order, Comparator.comparingDouble(i -> -scores.get(i)));
                for (int t = 0; t < thresholds; t++) {
                    ap[t] = averagePrecision(order, matches, t, positives);
                }
            }
            result.put(category, ap);
        }
        return result;
    }

    private static double averagePrecision(Integer[] order, List<boolean[]> matches, int t, int positives) {
        int n = order.length;
        double[] recall = new double[n];
        double[] precision = new double[n];
        double tp = 0;
        double fp = 0;
        for (int i = 0; i < n; i++) {
            if (matches.get(order[i])[t]) {
                tp++;
            } else {
                fp++;
            }
            recall[i] = tp / positives;
            precision[i] = tp / (tp + fp + Math.ulp(1.0));
        }
        for (int i = n - 2; i >= 0; i--) {
            precision[i] = Math.max(precision[i], precision[i + 1]);
        }
        double sum = 0;
        for (int r = 0; r < RECALL_POINTS; r++) {
            double threshold = r / (double) (RECALL_POINTS - 1);
            int index = firstAtLeast(recall, threshold);
            sum += index < n ? precision[index] : 0;
        }
        return sum / RECALL_POINTS;
    }

    /** numpy.searchsorted(side="left") on an ascending array. */
    private static int firstAtLeast(double[] sorted, double value) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < value) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** (AP, AP50) in percent over the given categories that have ground truth; NaN when none has. */
    public static double[] summarize(Map<Integer, double[]> perCategory, List<Integer> categoryIds) {
        double ap = 0;
        double ap50 = 0;
        int count = 0;
        for (int category : categoryIds) {
            double[] values = perCategory.get(category);
            if (values == null) {
                continue;
            }
            ap += java.util.Arrays.stream(values).average().orElse(0);
            ap50 += values[0];
            count++;
        }
        return count == 0 ? new double[] {Double.NaN, Double.NaN} : new double[] {100 * ap / count, 100 * ap50 / count};
    }

    static double iou(XYWH a, XYWH b) {
        double iw = Math.max(0, Math.min(a.x() + a.w(), b.x() + b.w()) - Math.max(a.x(), b.x()));
        double ih = Math.max(0, Math.min(a.y() + a.h(), b.y() + b.h()) - Math.max(a.y(), b.y()));
        double inter = iw * ih;
        return inter / Math.max(a.w() * a.h() + b.w() * b.h() - inter, 1e-12);
    }

    private static long key(int image, int category) {
        return ((long) image << 32) | (category & 0xffffffffL);
    }
}
