package dev.mqdet.inference;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.translate.TranslateException;
import dev.mqdet.inference.ImageDecoder.PreparedImage;
import dev.mqdet.inference.InferenceException.InvalidBoxException;
import dev.mqdet.inference.InferenceException.InvalidQueryException;
import dev.mqdet.inference.InferenceException.ModelPackageException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MQ-Det inference on a model package with DJL's PyTorch engine: encode exemplars once, then detect a query set
 * in batches of images. Thread-safe: concurrent callers borrow predictors from a pool.
 *
 * <pre>{@code
 * try (MqDetModel model = MqDetModel.load(ModelPackage.shipped(), MqDetModel.Options.defaults())) {
 *     List<float[]> bat = model.encodeExemplars(exemplarJpeg, List.of(new Box(10, 20, 90, 80)));
 *     List<List<Detection>> found = model.detect(List.of(imageBytes), List.of(new QueryCategory("bat-1", "bat", bat)));
 * }
 * }</pre>
 */
public final class MqDetModel implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(MqDetModel.class);

    static {
        // Engine-wide, read once when the engine loads: run offline from the Maven-provided native jar.
        setDefault("ai.djl.offline", "true");
        setDefault("ai.djl.pytorch.graph_optimizer", "false");
        setDefault("ai.djl.pytorch.num_interop_threads", "1");
    }

    /**
     * Settings of a loaded model; build them with {@link #builder()} (DJL style: {@code opt...} setters).
     *
     * @param device        "auto", "cpu", "gpu" or "gpu:N"; {@link DeviceRule} decides what auto means and refuses
     *                      a device this process cannot use
     * @param poolSize      torch threads, one predictor each; concurrent callers beyond it wait. On CPU the cores are
     *                      shared out: each forward gets cores / poolSize intra-op threads (see {@link #intraOpThreads}),
     *                      so 1 runs one batch on every core and 2 runs two batches side by side; on a GPU, 2 overlaps
     *                      one batch's CPU work with another's GPU work
     * @param scoreThreshold detections scoring below are dropped, in [0, 1]
     * @param nmsIou        IoU above which NMS keeps only the better of two boxes of one category, in (0, 1]
     * @param maxDetectionsPerImage cap after merging all categories, highest scores kept
     * @param maxPerCategory cap per category and image, before NMS
     * @param maxPixels     images declaring more pixels are refused before decoding
     * @param maxImageBytes images larger than this are refused
     * @param crossCategoryIou boxes of different categories overlapping by more than this IoU are one object: only
     *                      the best-scored category keeps it, in (0, 1]; 1 turns it off (GLIP's behaviour: each
     *                      category on its own)
     */
    public record Options(String device, int poolSize, float scoreThreshold, float nmsIou, int maxDetectionsPerImage,
                          int maxPerCategory, long maxPixels, int maxImageBytes, float crossCategoryIou) {
        public Options {
            require(device != null && !device.isBlank(), "device", device);
            require(poolSize >= 1, "poolSize", poolSize);
            require(scoreThreshold >= 0 && scoreThreshold <= 1, "scoreThreshold", scoreThreshold);
            require(nmsIou > 0 && nmsIou <= 1, "nmsIou", nmsIou);
            require(maxDetectionsPerImage >= 1, "maxDetectionsPerImage", maxDetectionsPerImage);
            require(maxPerCategory >= 1, "maxPerCategory", maxPerCategory);
            require(maxPixels >= 1, "maxPixels", maxPixels);
            require(maxImageBytes >= 1, "maxImageBytes", maxImageBytes);
            require(crossCategoryIou > 0 && crossCategoryIou <= 1, "crossCategoryIou", crossCategoryIou);
        }

        public static Options defaults() {
            return builder().build();
        }

        public static Builder builder() {
            return new Builder();
        }

        private static void require(boolean valid, String name, Object value) {
            if (!valid) {
                throw new IllegalArgumentException("model option " + name + " = " + value + " is out of range");
            }
        }

        /** Defaults: device auto, 1 torch thread, score 0.3, NMS IoU 0.5, 100 detections per image and per category, 40 MP, 32 MiB, categories on their own. */
        public static final class Builder {
            private String device = "auto";
            private int poolSize = 1;
            private float scoreThreshold = 0.3f;
            private float nmsIou = 0.5f;
            private int maxDetectionsPerImage = 100;
            private int maxPerCategory = 100;
            private long maxPixels = 40_000_000L;
            private int maxImageBytes = 32 << 20;
            private float crossCategoryIou = 1f;

            private Builder() {}

            public Builder optDevice(String device) {
                this.device = device;
                return this;
            }

            public Builder optPoolSize(int poolSize) {
                this.poolSize = poolSize;
                return this;
            }

            public Builder optScoreThreshold(float scoreThreshold) {
                this.scoreThreshold = scoreThreshold;
                return this;
            }

            public Builder optNmsIou(float nmsIou) {
                this.nmsIou = nmsIou;
                return this;
            }

            public Builder optMaxDetectionsPerImage(int maxDetectionsPerImage) {
                this.maxDetectionsPerImage = maxDetectionsPerImage;
                return this;
            }

            public Builder optMaxPerCategory(int maxPerCategory) {
                this.maxPerCategory = maxPerCategory;
                return this;
            }

            public Builder optMaxPixels(long maxPixels) {
                this.maxPixels = maxPixels;
                return this;
            }

            public Builder optMaxImageBytes(int maxImageBytes) {
                this.maxImageBytes = maxImageBytes;
                return this;
            }

            public Builder optCrossCategoryIou(float crossCategoryIou) {
                this.crossCategoryIou = crossCategoryIou;
                return this;
            }

            public Options build() {
                return new Options(device, poolSize, scoreThreshold, nmsIou, maxDetectionsPerImage, maxPerCategory, maxPixels, maxImageBytes,
                        crossCategoryIou);
            }
        }
    }

    private final ModelPackage pkg;
    private final Options options;
    private final Model detector;
    private final Model encoder;
    private final PromptEncoder prompts;
    private final ImageDecoder decoder;
    private final BlockingQueue<Predictor<DetectorTranslator.Input, List<List<DetectedObject>>>> detectors;
    private final BlockingQueue<Predictor<ExemplarEncoderTranslator.Input, List<float[]>>> encoders;
    /**
     * Every libtorch call runs on one of these threads, one per predictor, whoever the caller is. libtorch's
     * OpenMP keeps a team of worker threads per calling thread; when callers come from many threads (stream
     * threads, batch workers, the exemplar encoder) the teams add up past the cores, OpenMP then stops spinning
     * at its barriers, and every forward pays thread wake-ups: measured here, pipeline inference ran a third slower.
     */
    private final ExecutorService torchThreads;

    private MqDetModel(ModelPackage pkg, Options options) {
        this.pkg = pkg;
        this.options = options;
        setDefault("ai.djl.pytorch.num_threads", Integer.toString(intraOpThreads(options.poolSize())));
        DeviceRule.Choice choice = DeviceRule.fromEnvironment().choose(options.device());
        log.info(choice.logLine());
        Device device = choice.device();
        try {
            this.detector = Model.newInstance("detector", device, "PyTorch");
            detector.load(pkg.dir(), "detector");
            this.encoder = Model.newInstance("exemplar_encoder", device, "PyTorch");
            encoder.load(pkg.dir(), "exemplar_encoder");
        } catch (IOException | MalformedModelException | RuntimeException e) {
            throw new ModelPackageException("model package " + pkg.dir() + ": TorchScript files do not load on "
                    + device + ": " + e.getMessage(), e);
        }
        this.prompts = new PromptEncoder(pkg);
        this.decoder = new ImageDecoder(pkg, options.maxPixels(), options.maxImageBytes());
        DetectorTranslator translator = DetectorTranslator.builder(pkg)
                .optScoreThreshold(options.scoreThreshold())
                .optNmsIou(options.nmsIou())
                .optMaxPerCategory(options.maxPerCategory())
                .build();
        ExemplarEncoderTranslator encoderTranslator = new ExemplarEncoderTranslator(pkg);
        AtomicInteger threadNumber = new AtomicInteger();
        this.torchThreads = Executors.newFixedThreadPool(options.poolSize(), runnable -> {
            Thread thread = new Thread(runnable, "mqdet-torch-" + threadNumber.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        this.detectors = new ArrayBlockingQueue<>(options.poolSize());
        this.encoders = new ArrayBlockingQueue<>(options.poolSize());
        for (int i = 0; i < options.poolSize(); i++) {
            detectors.add(detector.newPredictor(translator));
            encoders.add(encoder.newPredictor(encoderTranslator));
        }
        log.info("loaded model {} from {} on {} ({} predictors)", pkg.modelId(), pkg.dir(), device, options.poolSize());
    }

    public static MqDetModel load(ModelPackage pkg, Options options) {
        MqDetModel model = new MqDetModel(pkg, options);
        try {
            model.probe();
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return model;
    }

    public ModelPackage modelPackage() {
        return pkg;
    }

    public String modelId() {
        return pkg.modelId();
    }

    /** How many forwards can run at once: callers beyond it wait for a predictor. */
    public int predictors() {
        return options.poolSize();
    }

    public ImageDecoder decoder() {
        return decoder;
    }

    /** The text side: how this model's categories become prompts. */
    PromptEncoder prompts() {
        return prompts;
    }

    /** Feature vectors of the exemplars in one image, one per box (original pixels); computed once per exemplar. */
    public List<float[]> encodeExemplars(byte[] imageBytes, List<Box> boxes) {
        PreparedImage image = decoder.prepare(imageBytes);
        if (boxes.isEmpty()) {
            throw new InvalidBoxException("no exemplar boxes given");
        }
        for (Box box : boxes) {
            checkBox(box, image);
        }
        return withPredictor(encoders, predictor -> predictor.predict(new ExemplarEncoderTranslator.Input(image, boxes)));
    }

    /** Detections per image (in input order) of every category of the query set, from encoded image bytes. */
    public List<List<DetectedObject>> detect(List<byte[]> images, List<QueryCategory> querySet) {
        List<PreparedImage> prepared = new ArrayList<>(images.size());
        for (byte[] bytes : images) {
            prepared.add(decoder.prepare(bytes));
        }
        return detectPrepared(prepared, querySet);
    }

    /**
     * One forward per chunk of categories over the whole batch of images; chunks are merged per image. In
     * per-category mode this is exact (categories never meet); in prompt mode a category is scored in the company
     * of its chunk, as GLIP scores LVIS.
     */
    public List<List<DetectedObject>> detectPrepared(List<PreparedImage> images, List<QueryCategory> querySet) {
        return detectBatch(images, querySet).perImage();
    }

    /** Detections per image, in input order, and the time the model itself worked on them. */
    public record BatchDetections(List<List<DetectedObject>> perImage, Duration modelTime) {}

    /**
     * {@link #detectPrepared}, timed. The model time counts the forwards and their post-processing on the torch
     * threads, not the wait for a free predictor: with more callers than predictors the two differ.
     */
    public BatchDetections detectBatch(List<PreparedImage> images, List<QueryCategory> querySet) {
        if (querySet.isEmpty()) {
            throw new InvalidQueryException("the query set has no categories");
        }
        if (images.isEmpty()) {
            return new BatchDetections(List.of(), Duration.ZERO);
        }
        for (QueryCategory category : querySet) {
            checkExemplars(category);
        }
        List<List<DetectedObject>> merged = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            merged.add(new ArrayList<>());
        }
        LongAdder modelNanos = new LongAdder();
        for (PromptEncoder.Chunk chunk : prompts.chunks(querySet)) {
            DetectorTranslator.Input input = new DetectorTranslator.Input(images, querySet.subList(chunk.from(), chunk.to()), chunk.text());
            List<List<DetectedObject>> part = withPredictor(detectors, predictor -> predictor.predict(input), modelNanos);
            for (int i = 0; i < images.size(); i++) {
                merged.get(i).addAll(part.get(i));
            }
        }
        Comparator<DetectedObject> byScore = Comparator.comparingDouble(d -> -d.score());
        for (List<DetectedObject> detections : merged) {
            detections.sort(byScore);
            if (options.crossCategoryIou() < 1) {
                oneCategoryPerObject(detections, options.crossCategoryIou(), options.maxDetectionsPerImage());
            }
            if (detections.size() > options.maxDetectionsPerImage()) {
                detections.subList(options.maxDetectionsPerImage(), detections.size()).clear();
            }
        }
        return new BatchDetections(merged, Duration.ofNanos(modelNanos.sum()));
    }

    /**
     * Keeps, among boxes of different categories that overlap by more than {@code iou}, only the best-scored one (the
     * list is sorted by score): a look-alike of a queried category is then one answer, not two. Stops at {@code max}
     * kept, since the image's cap keeps no more.
     */
    private static void oneCategoryPerObject(List<DetectedObject> byScore, float iou, int max) {
        List<DetectedObject> kept = new ArrayList<>(Math.min(max, byScore.size()));
        for (DetectedObject d : byScore) {
            if (kept.size() == max) {
                break;
            }
            if (kept.stream().noneMatch(k -> !k.categoryId().equals(d.categoryId()) && k.box().iou(d.box()) > iou)) {
                kept.add(d);
            }
        }
        byScore.clear();
        byScore.addAll(kept);
    }

    @Override
    public void close() {
        torchThreads.shutdown();
        try {
            if (!torchThreads.awaitTermination(60, TimeUnit.SECONDS)) {
                log.warn("model {}: inference still running after 60 s, closing anyway", pkg.modelId());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        detectors.forEach(Predictor::close);
        encoders.forEach(Predictor::close);
        detector.close();
        encoder.close();
        prompts.close();
    }

    /**
     * A category's exemplars must fit the model: vectors of {@code feature_dim} (another model's are meaningless
     * here) and no more than {@code max_exemplars_per_category} (refused, never dropped).
     */
    private void checkExemplars(QueryCategory category) {
        if (category.exemplars().size() > pkg.maxExemplars()) {
            throw new InvalidQueryException("category '" + category.categoryId() + "' has " + category.exemplars().size()
                    + " exemplars; model " + pkg.modelId() + " takes at most " + pkg.maxExemplars() + " per category");
        }
        for (float[] vector : category.exemplars()) {
            if (vector.length != pkg.featureDim()) {
                throw new InvalidQueryException("category '" + category.categoryId() + "' has an exemplar vector of "
                        + vector.length + " floats; model " + pkg.modelId() + " needs " + pkg.featureDim()
                        + " (was it encoded by another model?)");
            }
        }
    }

    /** One tiny forward of each TorchScript file, so a package whose shapes disagree with its contract fails at load. */
    private void probe() {
        PreparedImage blank = decoder.blank(64, 48);
        List<float[]> vectors = withPredictor(encoders, p -> p.predict(
                new ExemplarEncoderTranslator.Input(blank, List.of(new Box(4, 4, 32, 24)))));
        if (vectors.size() != 1) {
            throw new ModelPackageException("model package " + pkg.dir() + ": exemplar encoder returned "
                    + vectors.size() + " vectors for 1 box");
        }
        detectPrepared(List.of(blank), List.of(new QueryCategory("probe", "probe", vectors)));
    }

    /** Runs {@code call} with a free predictor of {@code pool} on a torch thread, and waits for it. */
    private <I, O> O withPredictor(BlockingQueue<Predictor<I, O>> pool, PredictorCall<I, O> call) {
        return withPredictor(pool, call, new LongAdder());
    }

    /** As above, adding the time the call ran on its torch thread (not the wait for one) to {@code ranNanos}. */
    private <I, O> O withPredictor(BlockingQueue<Predictor<I, O>> pool, PredictorCall<I, O> call, LongAdder ranNanos) {
        Future<O> result = torchThreads.submit(() -> {
            long started = System.nanoTime();
            Predictor<I, O> predictor = pool.take(); // never waits: one predictor per torch thread
            try {
                return call.apply(predictor);
            } finally {
                pool.add(predictor);
                ranNanos.add(System.nanoTime() - started);
            }
        });
        try {
            return result.get();
        } catch (InterruptedException e) {
            result.cancel(false);
            Thread.currentThread().interrupt();
            throw new InferenceException("interrupted while waiting for inference", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof TranslateException translate) {
                cause = translate.getCause() != null ? translate.getCause() : translate;
                if (cause instanceof InferenceException inference) {
                    throw inference;
                }
                throw new InferenceException("model " + pkg.modelId() + " failed: " + cause.getMessage(), translate);
            }
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new InferenceException("model " + pkg.modelId() + " failed: " + cause.getMessage(), cause);
        } catch (RejectedExecutionException e) {
            throw new InferenceException("model " + pkg.modelId() + " is closed", e);
        }
    }

    @FunctionalInterface
    private interface PredictorCall<I, O> {
        O apply(Predictor<I, O> predictor) throws TranslateException;
    }

    private static void checkBox(Box box, PreparedImage image) {
        boolean finite = Float.isFinite(box.x1()) && Float.isFinite(box.y1()) && Float.isFinite(box.x2()) && Float.isFinite(box.y2());
        if (!finite || box.width() <= 0 || box.height() <= 0) {
            throw new InvalidBoxException("exemplar box " + box + " is empty or not finite");
        }
        if (box.x1() < 0 || box.y1() < 0 || box.x2() > image.width() || box.y2() > image.height()) {
            throw new InvalidBoxException("exemplar box " + box + " lies outside its " + image.width() + "x" + image.height() + " image");
        }
    }

    /**
     * Intra-op threads of one forward on CPU: the cores shared out among the predictors. Side by side beats one
     * forward on every core when callers can keep every predictor busy: one forward on two cores waits at OpenMP
     * barriers, and loses whole time slices to any other thread that runs. Measured here (2 cores, batch 8,
     * {@code ./mqdet bench-model --predictors 2} against {@code --predictors 1}): 86-96 against 67-72 images/s.
     * libtorch reads it engine-wide when the engine loads, so in one JVM the first model loaded decides; the system
     * property {@code ai.djl.pytorch.num_threads}, where set, wins.
     */
    static int intraOpThreads(int poolSize) {
        return Math.max(1, Runtime.getRuntime().availableProcessors() / poolSize);
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
