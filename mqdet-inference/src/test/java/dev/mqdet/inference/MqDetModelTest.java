package dev.mqdet.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.mqdet.inference.ImageDecoder.PreparedImage;
import dev.mqdet.inference.InferenceException.InvalidBoxException;
import dev.mqdet.inference.InferenceException.InvalidImageException;
import dev.mqdet.inference.InferenceException.InvalidQueryException;
import dev.mqdet.inference.eval.CocoEvaluator;
import dev.mqdet.inference.eval.EvalSet;
import dev.mqdet.inference.eval.Evaluation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MqDetModelTest {

    private static MqDetModel model;
    private static EvalSet set;
    private static List<QueryCategory> multimodal;

    @BeforeAll
    static void load() {
        model = MqDetModel.load(TestModels.shippedPackage(), MqDetModel.Options.builder()
                .optScoreThreshold(0.3f).optMaxDetectionsPerImage(10_000).optPoolSize(4).build());
        set = TestModels.evalSet();
        Map<Integer, List<float[]>> bank = Evaluation.exemplarBank(model, set, 5);
        multimodal = set.evaluated().stream()
                .map(c -> new QueryCategory(Integer.toString(c.id()), c.name(), bank.get(c.id()))).toList();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void findsTheRightCategoriesWithIouAtLeast07OnKnownImages() {
        List<EvalSet.Image> images = set.images().subList(0, 16);
        List<List<DetectedObject>> found = model.detect(images.stream().map(set::read).toList(), multimodal);
        int objects = 0;
        int foundWell = 0;
        for (int i = 0; i < images.size(); i++) {
            int imageId = images.get(i).id();
            for (CocoEvaluator.GroundTruth truth : set.truths()) {
                if (truth.imageId() != imageId || multimodal.stream().noneMatch(q -> q.categoryId().equals(Integer.toString(truth.categoryId())))) {
                    continue;
                }
                objects++;
                CocoEvaluator.XYWH b = truth.box();
                Box box = new Box((float) b.x(), (float) b.y(), (float) (b.x() + b.w()), (float) (b.y() + b.h()));
                boolean hit = found.get(i).stream().anyMatch(d -> d.categoryId().equals(Integer.toString(truth.categoryId())) && d.box().iou(box) >= 0.7);
                foundWell += hit ? 1 : 0;
            }
        }
        System.err.printf("known images: %d of %d objects found with the right category at IoU >= 0.7 (score >= 0.3)%n", foundWell, objects);
        assertThat(objects).isGreaterThan(30);
        assertThat((double) foundWell / objects).as("objects found with the right category at IoU >= 0.7 (%d of %d)", foundWell, objects)
                .isGreaterThanOrEqualTo(0.8);
    }

    @Test
    void modelTimeLeavesOutTheWaitForAFreePredictor() throws Exception {
        try (MqDetModel onePredictor = MqDetModel.load(TestModels.shippedPackage(), MqDetModel.Options.builder().optPoolSize(1).build())) {
            List<PreparedImage> images = set.images().subList(0, 8).stream().map(i -> onePredictor.decoder().prepare(set.read(i))).toList();
            ExecutorService callers = Executors.newFixedThreadPool(2);
            try {
                long started = System.nanoTime();
                Future<MqDetModel.BatchDetections> first = callers.submit(() -> onePredictor.detectBatch(images, multimodal));
                Future<MqDetModel.BatchDetections> second = callers.submit(() -> onePredictor.detectBatch(images, multimodal));
                Duration both = first.get().modelTime().plus(second.get().modelTime());
                Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
                // One predictor runs the two batches one after the other: their model times fit in the time both
                // took. Counted with the wait for the predictor, the later one alone would be about all of it.
                assertThat(first.get().modelTime()).isPositive();
                assertThat(second.get().perImage()).hasSize(8);
                assertThat(both).isLessThanOrEqualTo(elapsed);
            } finally {
                callers.shutdown();
            }
        }
    }

    @Test
    void lvisScaleQuerySetIsChunkedAndGivesTheSameAnswersAsASmallOne() {
        int limit = model.modelPackage().maxCategoriesPerForward();
        List<QueryCategory> large = new ArrayList<>(multimodal);
        Random random = new Random(3);
        String[] words = {"red", "blue", "green", "striped", "dotted", "circle", "star", "square", "ringed", "unknownword"};
        while (large.size() < 1_200) {
            large.add(QueryCategory.text("distractor-" + large.size(), words[random.nextInt(words.length)] + " " + words[random.nextInt(words.length)]));
        }
        assertThat(large.size()).isGreaterThan(4 * limit);
        List<byte[]> images = List.of(set.read(set.images().get(0)), set.read(set.images().get(1)));
        List<List<DetectedObject>> small = model.detect(images, multimodal);
        List<List<DetectedObject>> big = model.detect(images, large);
        for (int i = 0; i < images.size(); i++) {
            List<DetectedObject> realOnes = big.get(i).stream().filter(d -> !d.categoryId().startsWith("distractor-")).toList();
            assertThat(realOnes).hasSameSizeAs(small.get(i));
            for (int j = 0; j < realOnes.size(); j++) {
                assertThat(realOnes.get(j).categoryId()).isEqualTo(small.get(i).get(j).categoryId());
                assertThat(realOnes.get(j).score()).isCloseTo(small.get(i).get(j).score(), within(1e-5f));
            }
        }
    }

    @Test
    void concurrentCallersGetTheSameAnswersAsOneCaller() throws Exception {
        List<byte[]> images = set.images().subList(0, 4).stream().map(set::read).toList();
        List<List<DetectedObject>> expected = model.detect(images, multimodal);
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<List<List<DetectedObject>>>> futures = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                futures.add(pool.submit(() -> model.detect(images, multimodal)));
            }
            for (Future<List<List<DetectedObject>>> future : futures) {
                assertThat(future.get()).isEqualTo(expected);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void batchOfManyImagesEqualsImagesOneByOne() {
        List<PreparedImage> images = set.images().subList(0, 5).stream().map(i -> model.decoder().prepare(set.read(i))).toList();
        List<List<DetectedObject>> batched = model.detectPrepared(images, multimodal);
        for (int i = 0; i < images.size(); i++) {
            List<DetectedObject> alone = model.detectPrepared(List.of(images.get(i)), multimodal).get(0);
            assertThat(batched.get(i)).hasSameSizeAs(alone);
            for (int j = 0; j < alone.size(); j++) {
                assertThat(batched.get(i).get(j).score()).isCloseTo(alone.get(j).score(), within(1e-4f));
            }
        }
    }

    @Test
    void badInputsGiveTypedErrors() {
        byte[] image = set.read(set.images().get(0));
        int width = set.images().get(0).width();
        assertThatThrownBy(() -> model.encodeExemplars(image, List.of(new Box(10, 10, width + 5f, 40))))
                .isInstanceOf(InvalidBoxException.class).hasMessageContaining("outside");
        assertThatThrownBy(() -> model.encodeExemplars(image, List.of(new Box(30, 30, 30, 60))))
                .isInstanceOf(InvalidBoxException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> model.encodeExemplars(image, List.of(new Box(Float.NaN, 0, 10, 10))))
                .isInstanceOf(InvalidBoxException.class);
        assertThatThrownBy(() -> model.encodeExemplars(image, List.of())).isInstanceOf(InvalidBoxException.class);
        assertThatThrownBy(() -> model.encodeExemplars(new byte[] {1, 2, 3}, List.of(new Box(0, 0, 5, 5))))
                .isInstanceOf(InvalidImageException.class);
        assertThatThrownBy(() -> model.detect(List.of(image), List.of())).isInstanceOf(InvalidQueryException.class)
                .hasMessageContaining("no categories");
        assertThatThrownBy(() -> model.detect(List.of(image), List.of(new QueryCategory("empty", "  ", List.of()))))
                .isInstanceOf(InvalidQueryException.class).hasMessageContaining("neither text");
        assertThatThrownBy(() -> model.detect(List.of(image), List.of(new QueryCategory("other-model", null, List.of(new float[3])))))
                .isInstanceOf(InvalidQueryException.class).hasMessageContaining("another model");
        assertThatThrownBy(() -> model.detect(List.of(image, new byte[0]), multimodal)).isInstanceOf(InvalidImageException.class);
    }
}
