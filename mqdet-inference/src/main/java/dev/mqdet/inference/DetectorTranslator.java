package dev.mqdet.inference;

import ai.djl.modality.cv.output.Rectangle;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslatorContext;
import dev.mqdet.inference.ImageDecoder.PreparedImage;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The detector's translator: a batch of prepared images and one chunk of categories in, detections per image
 * out. Pre-processing packs the seven input tensors of {@code model.json} (images padded onto one canvas, their
 * sizes, the chunk's tokens and positive map, its exemplars); post-processing turns the per-category logits into
 * scores (sigmoid), keeps those above the threshold, runs non-maximum suppression per category (DJL's
 * {@link Rectangle#nms}) and maps boxes back to original pixels, each axis by its own scale. Where the package gives
 * region embeddings, each kept detection is compared with its category's exemplars ({@link RegionMatcher}): it
 * carries its best match, and is dropped when a negative exemplar is closer.
 */
public final class DetectorTranslator implements NoBatchifyTranslator<DetectorTranslator.Input, List<List<DetectedObject>>> {

    /** One forward: images and a chunk of categories with their text inputs. */
    public record Input(List<PreparedImage> images, List<QueryCategory> categories, PromptEncoder.TextInput text) {}

    /**
     * DJL's {@link Rectangle#getIoU} counts pixels inclusively (+1 on every side length), where COCO and the Python
     * evaluator use continuous coordinates. Handing NMS the boxes in milli-pixels makes that +1 negligible
     * (IoU error below 1e-4 for boxes of a few pixels and up), so DJL's NMS matches the reference.
     */
    private static final float NMS_UNITS = 1000f;

    private final ModelPackage pkg;
    private final float scoreThreshold;
    private final float nmsIou;
    private final int preNmsTopK;
    private final int maxPerCategory;

    private DetectorTranslator(Builder builder) {
        this.pkg = builder.pkg;
        this.scoreThreshold = builder.scoreThreshold;
        this.nmsIou = builder.nmsIou;
        this.preNmsTopK = builder.preNmsTopK;
        this.maxPerCategory = builder.maxPerCategory;
    }

    public static Builder builder(ModelPackage pkg) {
        return new Builder(pkg);
    }

    @Override
    public NDList processInput(TranslatorContext ctx, Input input) {
        ctx.setAttachment("input", input);
        NDManager manager = ctx.getNDManager();
        Canvas canvas = Canvas.of(pkg.imageRule(), input.images());
        int k = input.categories().size();
        int dim = pkg.featureDim();
        int exemplars = Math.max(1, input.categories().stream().mapToInt(c -> c.exemplars().size()).max().orElse(0));
        float[] feats = new float[k * exemplars * dim];
        long[] exemplarMask = new long[k * exemplars];
        for (int c = 0; c < k; c++) {
            List<float[]> vectors = input.categories().get(c).exemplars();
            for (int e = 0; e < vectors.size(); e++) {
                System.arraycopy(vectors.get(e), 0, feats, (c * exemplars + e) * dim, dim);
                exemplarMask[c * exemplars + e] = 1;
            }
        }
        PromptEncoder.TextInput text = input.text();
        return new NDList(
                canvas.pixels(manager),
                canvas.sizes(manager),
                manager.create(text.ids(), new Shape(text.rows(), text.length())),
                manager.create(text.mask(), new Shape(text.rows(), text.length())),
                manager.create(FloatBuffer.wrap(text.positiveMap()), new Shape(k, text.rows(), text.length())),
                manager.create(FloatBuffer.wrap(feats), new Shape(k, exemplars, dim)),
                manager.create(exemplarMask, new Shape(k, exemplars)));
    }

    @Override
    public List<List<DetectedObject>> processOutput(TranslatorContext ctx, NDList output) {
        NDArray boxesArray = output.get(0);
        Shape shape = boxesArray.getShape();
        int batch = (int) shape.get(0);
        int anchors = (int) shape.get(1);
        float[] boxes = boxesArray.toFloatArray();
        float[] scores = Activation.sigmoid(output.get(1)).toFloatArray();
        Input input = (Input) ctx.getAttachment("input");
        Regions regions = Regions.of(output, input.categories(), batch, anchors);
        int k = input.categories().size();
        List<List<DetectedObject>> perImage = new ArrayList<>(batch);
        for (int b = 0; b < batch; b++) {
            PreparedImage image = input.images().get(b);
            List<DetectedObject> detections = new ArrayList<>();
            for (int c = 0; c < k; c++) {
                detections.addAll(category(boxes, scores, b, c, k, anchors, image, input.categories().get(c), regions));
            }
            perImage.add(detections);
        }
        return perImage;
    }

    private List<DetectedObject> category(float[] boxes, float[] scores, int b, int c, int k, int anchors,
                                     PreparedImage image, QueryCategory category, Regions regions) {
        List<Integer> candidates = new ArrayList<>();
        float threshold = category.threshold(scoreThreshold);
        for (int n = 0; n < anchors; n++) {
            if (scores[(b * anchors + n) * k + c] > threshold) {
                candidates.add(n);
            }
        }
        if (candidates.isEmpty()) {
            return List.of();
        }
        candidates.sort(Comparator.comparingDouble((Integer n) -> -scores[(b * anchors + n) * k + c]));
        if (candidates.size() > preNmsTopK) {
            candidates = candidates.subList(0, preNmsTopK);
        }
        List<Box> original = new ArrayList<>(candidates.size());
        List<Rectangle> rectangles = new ArrayList<>(candidates.size());
        List<Double> candidateScores = new ArrayList<>(candidates.size());
        for (int n : candidates) {
            int at = (b * anchors + n) * 4;
            Box box = image.toOriginal(new Box(boxes[at], boxes[at + 1], boxes[at + 2], boxes[at + 3]));
            original.add(box);
            rectangles.add(new Rectangle(box.x1() * NMS_UNITS, box.y1() * NMS_UNITS, box.width() * NMS_UNITS, box.height() * NMS_UNITS));
            candidateScores.add((double) scores[(b * anchors + n) * k + c]);
        }
        List<Integer> kept = Rectangle.nms(rectangles, candidateScores, nmsIou);
        List<DetectedObject> detections = new ArrayList<>(Math.min(kept.size(), maxPerCategory));
        for (int i = 0; i < kept.size() && detections.size() < maxPerCategory; i++) {
            int j = kept.get(i);
            RegionMatcher.Verdict verdict = regions.judge(category, b, candidates.get(j));
            if (verdict != null && verdict.rejected()) {
                continue;
            }
            detections.add(new DetectedObject(category.categoryId(), category.label(), candidateScores.get(j).floatValue(),
                    original.get(j), threshold, verdict == null ? null : verdict.match()));
        }
        return detections;
    }

    /**
     * The optional {@code box_embeddings} [B, M, D] and {@code box_embedding_anchors} [B, M] outputs, read only when
     * a category of the chunk has exemplars or negatives (the copy out of the engine is then worth it).
     */
    private record Regions(float[] embeddings, int[] rowOfAnchor, int rows, int dim, int anchors) {
        static final Regions NONE = new Regions(null, null, 0, 0, 0);

        static Regions of(NDList output, List<QueryCategory> categories, int batch, int anchors) {
            if (output.size() < 4 || categories.stream().noneMatch(QueryCategory::comparesRegions)) {
                return NONE;
            }
            NDArray embeddings = output.get(2);
            int rows = (int) embeddings.getShape().get(1);
            int dim = (int) embeddings.getShape().get(2);
            long[] anchorOfRow = output.get(3).toType(DataType.INT64, false).toLongArray();
            int[] rowOfAnchor = new int[batch * anchors];
            Arrays.fill(rowOfAnchor, -1);
            for (int b = 0; b < batch; b++) {
                for (int m = 0; m < rows; m++) {
                    long n = anchorOfRow[b * rows + m];
                    if (n >= 0 && n < anchors) {
                        rowOfAnchor[b * anchors + (int) n] = m;
                    }
                }
            }
            return new Regions(embeddings.toFloatArray(), rowOfAnchor, rows, dim, anchors);
        }

        /** The verdict for a detection at anchor n of image b, or null when it has no embedding. */
        RegionMatcher.Verdict judge(QueryCategory category, int b, int n) {
            if (embeddings == null || !category.comparesRegions()) {
                return null;
            }
            int row = rowOfAnchor[b * anchors + n];
            return row < 0 ? null : RegionMatcher.judge(category, embeddings, (b * rows + row) * dim, dim);
        }
    }

    /** Post-processing settings, DJL style. Defaults are the reference values of {@code model.json}. */
    public static final class Builder {
        private final ModelPackage pkg;
        private float scoreThreshold = 0.05f;
        private float nmsIou = 0.5f;
        private int preNmsTopK = 1000;
        private int maxPerCategory = 100;

        private Builder(ModelPackage pkg) {
            this.pkg = pkg;
        }

        /** Keep detections whose score (sigmoid of the logit) is above this. */
        public Builder optScoreThreshold(float threshold) {
            this.scoreThreshold = threshold;
            return this;
        }

        /** Suppress a box overlapping a higher-scored box of the same category by more than this IoU. */
        public Builder optNmsIou(float iou) {
            this.nmsIou = iou;
            return this;
        }

        /** Candidates per image and category that enter NMS. */
        public Builder optPreNmsTopK(int topK) {
            this.preNmsTopK = topK;
            return this;
        }

        /** Detections kept per image and category after NMS. */
        public Builder optMaxPerCategory(int max) {
            this.maxPerCategory = max;
            return this;
        }

        public DetectorTranslator build() {
            return new DetectorTranslator(this);
        }
    }
}
