package dev.mqdet.inference.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.mqdet.inference.eval.CocoEvaluator.GroundTruth;
import dev.mqdet.inference.eval.CocoEvaluator.Scored;
import dev.mqdet.inference.eval.CocoEvaluator.XYWH;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Hand-checked cases; the same ones as training/tests/test_coco_eval.py where they overlap. */
class CocoEvaluatorTest {

    private static final XYWH A = new XYWH(10, 10, 20, 20);
    private static final XYWH B = new XYWH(100, 100, 40, 20);

    @Test
    void perfectDetectionsScore100() {
        Map<Integer, double[]> ap = CocoEvaluator.evaluate(
                List.of(new GroundTruth(1, 7, A), new GroundTruth(2, 7, B)),
                List.of(new Scored(1, 7, A, 0.9), new Scored(2, 7, B, 0.8)), List.of(7));
        assertThat(CocoEvaluator.summarize(ap, List.of(7))).containsExactly(new double[] {100, 100}, within(1e-9));
    }

    @Test
    void falsePositiveRankedFirstHalvesPrecisionAtFullRecall() {
        // ranks: FP (0.9), TP (0.8): precision envelope 0.5 at every recall point up to 1.
        Map<Integer, double[]> ap = CocoEvaluator.evaluate(
                List.of(new GroundTruth(1, 7, A)),
                List.of(new Scored(1, 7, B, 0.9), new Scored(1, 7, A, 0.8)), List.of(7));
        assertThat(ap.get(7)[0]).isCloseTo(0.5, within(1e-9));
    }

    @Test
    void missedObjectCapsRecall() {
        // one of two objects found: precision 1 up to recall 0.5 -> 51 of 101 recall points.
        Map<Integer, double[]> ap = CocoEvaluator.evaluate(
                List.of(new GroundTruth(1, 7, A), new GroundTruth(1, 7, B)),
                List.of(new Scored(1, 7, A, 0.9)), List.of(7));
        assertThat(ap.get(7)[0]).isCloseTo(51.0 / 101, within(1e-9));
    }

    @Test
    void looseBoxCountsAtLowIouOnly() {
        XYWH shifted = new XYWH(14, 10, 20, 20); // IoU = 16*20 / (2*400 - 320) = 0.667
        Map<Integer, double[]> ap = CocoEvaluator.evaluate(List.of(new GroundTruth(1, 7, A)),
                List.of(new Scored(1, 7, shifted, 0.9)), List.of(7));
        assertThat(ap.get(7)).containsExactly(new double[] {1, 1, 1, 1, 0, 0, 0, 0, 0, 0}, within(1e-9));
        assertThat(CocoEvaluator.summarize(ap, List.of(7))[0]).isCloseTo(40.0, within(1e-9));
    }

    @Test
    void categoriesWithoutGroundTruthAreSkipped() {
        Map<Integer, double[]> ap = CocoEvaluator.evaluate(List.of(new GroundTruth(1, 7, A)),
                List.of(new Scored(1, 8, A, 0.9)), List.of(7, 8));
        assertThat(ap).containsOnlyKeys(7);
        assertThat(CocoEvaluator.summarize(ap, List.of(8))[0]).isNaN();
    }
}
