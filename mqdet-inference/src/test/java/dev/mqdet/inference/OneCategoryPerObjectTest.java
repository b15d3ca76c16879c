package dev.mqdet.inference;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.inference.eval.EvalSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code crossCategoryIou}: on the held-out set's 22 categories (threshold 0.3, the first 75 images) most false detections are a queried
 * category's look-alike answered as another queried category; keeping one category per object removes them.
 */
class OneCategoryPerObjectTest {

    @Test
    void overlappingBoxesOfDifferentCategoriesBecomeOneAnswer() {
        double[] plain;
        double[] one;
        Map<EvalSet.Image, List<DetectedObject>> found;
        try (MqDetModel model = load(1f)) {
            HeldOut heldOut = new HeldOut(model);
            plain = heldOut.precisionRecall(heldOut.detect(half(heldOut), heldOut.query));
        }
        try (MqDetModel model = load(0.5f)) {
            HeldOut heldOut = new HeldOut(model);
            found = heldOut.detect(half(heldOut), heldOut.query);
            one = heldOut.precisionRecall(found);
        }
        System.err.printf("one category per object (IoU 0.5): precision %.3f -> %.3f, recall %.3f -> %.3f%n", plain[0], one[0], plain[1], one[1]);
        for (List<DetectedObject> detections : found.values()) {
            for (DetectedObject a : detections) {
                assertThat(detections).noneMatch(b -> !b.categoryId().equals(a.categoryId()) && b.box().iou(a.box()) > 0.5);
            }
        }
        assertThat(one[0]).isGreaterThan(plain[0] + 0.1);
        assertThat(one[1]).isGreaterThan(0.8);
    }

    /** Half the held-out images: enough for the figure, and half the suite's time. */
    private static List<EvalSet.Image> half(HeldOut heldOut) {
        return heldOut.set.images().subList(0, heldOut.set.images().size() / 2);
    }

    private static MqDetModel load(float crossCategoryIou) {
        return MqDetModel.load(TestModels.shippedPackage(), MqDetModel.Options.builder().optScoreThreshold(0.3f)
                .optMaxDetectionsPerImage(10_000).optCrossCategoryIou(crossCategoryIou).build());
    }
}
