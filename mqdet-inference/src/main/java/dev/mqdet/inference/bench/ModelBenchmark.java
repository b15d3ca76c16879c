package dev.mqdet.inference.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mqdet.inference.ImageDecoder.PreparedImage;
import dev.mqdet.inference.ModelPackage;
import dev.mqdet.inference.MqDetModel;
import dev.mqdet.inference.QueryCategory;
import dev.mqdet.inference.eval.EvalSet;
import dev.mqdet.inference.eval.Evaluation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Raw model throughput through DJL: images/s at several batch sizes on the held-out images, with the multimodal
 * query set of the evaluation (every evaluated category, text + 5 exemplars). Pre-processing is done before the
 * clock starts; the clock covers forward and post-processing. With {@code --predictors N}, N callers keep N
 * batches running side by side, each forward on cores / N intra-op threads (the streams app's default is 2).
 * A benchmark, not a test: it prints numbers.
 */
@Command(name = "bench-model", mixinStandardHelpOptions = true, description = "Images/s of the model at batch 1, 4, 8, 16.")
public final class ModelBenchmark implements Callable<Integer> {

    @Option(names = "--model", description = "Model package folder (default: the shipped package).")
    Path model;

    @Option(names = "--eval-set", description = "Evaluation set folder (default: models/synth-eval of this checkout).")
    Path evalSet;

    @Option(names = "--batches", split = ",", defaultValue = "1,4,8,16", description = "Batch sizes.")
    List<Integer> batches;

    @Option(names = "--images", defaultValue = "64", description = "Images per measurement.")
    int images;

    @Option(names = "--threads", defaultValue = "0", description = "Intra-op threads per forward (0 = cores / predictors).")
    int threads;

    @Option(names = "--predictors", defaultValue = "1", description = "Batches running side by side, one predictor each (default: ${DEFAULT-VALUE}).")
    int predictors;

    @Option(names = "--negatives", defaultValue = "0", description = "Negative exemplars per category (other categories' exemplar"
            + " vectors), to measure what comparing detections with them costs (default: ${DEFAULT-VALUE}).")
    int negatives;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Option(names = "--python-eager", description = "Also run the eager PyTorch model (Debian's /usr/bin/python3 with torch) "
            + "on the same images and print the Java/Python ratio per batch size.")
    boolean pythonEager;

    public static void main(String[] args) {
        System.exit(new CommandLine(new ModelBenchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (evalSet == null) {
            evalSet = Path.of(System.getenv().getOrDefault("MQDET_HOME", ".")).resolve("models/synth-eval");
        }
        if (predictors < 1) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--predictors must be at least 1, not " + predictors);
        }
        if (pythonEager && predictors != 1) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--python-eager compares one forward at a time: use it with --predictors 1");
        }
        if (threads > 0) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        }
        Map<String, Object> report = new LinkedHashMap<>();
        ExecutorService callers = Executors.newFixedThreadPool(predictors);
        try (MqDetModel mqdet = MqDetModel.load(model == null ? ModelPackage.shipped() : ModelPackage.load(model),
                MqDetModel.Options.builder().optPoolSize(predictors).build())) {
            EvalSet set = EvalSet.load(evalSet);
            List<QueryCategory> plain = multimodalQuerySet(mqdet, set);
            List<QueryCategory> querySet = withNegatives(plain, negatives);
            List<PreparedImage> all = new ArrayList<>();
            for (int i = 0; i < images; i++) {
                all.add(mqdet.decoder().prepare(set.read(set.images().get(i % set.images().size()))));
            }
            report.put("model", mqdet.modelId());
            report.put("categories", querySet.size());
            report.put("negatives_per_category", negatives);
            report.put("images", images);
            report.put("predictors", predictors);
            Map<String, Double> perBatch = new LinkedHashMap<>();
            if (negatives > 0) {
                // with and without negatives batch by batch in turn, so that a noisy machine slows both alike
                Map<String, Double> without = new LinkedHashMap<>();
                for (int batch : batches) {
                    double[] eps = interleaved(mqdet, all, batch, querySet, plain);
                    perBatch.put(Integer.toString(batch), Math.round(eps[0] * 100) / 100.0);
                    without.put(Integer.toString(batch), Math.round(eps[1] * 100) / 100.0);
                    System.err.printf("batch %2d: %.2f images/s with %d negatives per category, %.2f without%n", batch, eps[0], negatives, eps[1]);
                }
                report.put("images_per_second", perBatch);
                report.put("images_per_second_without_negatives", without);
                System.out.println(json ? new ObjectMapper().writeValueAsString(report) : report);
                return 0;
            }
            for (int batch : batches) {
                sideBySide(callers, all.subList(0, Math.min(2 * predictors * batch, all.size())), batch,
                        slice -> mqdet.detectPrepared(slice, querySet)); // warm-up
                long started = System.nanoTime();
                sideBySide(callers, all, batch, slice -> mqdet.detectPrepared(slice, querySet));
                double seconds = (System.nanoTime() - started) / 1e9;
                perBatch.put(Integer.toString(batch), Math.round(images / seconds * 100) / 100.0);
                System.err.printf("batch %2d: %.2f images/s%n", batch, images / seconds);
            }
            report.put("images_per_second", perBatch);
            if (pythonEager) {
                Map<String, Double> eager = pythonEager();
                report.put("eager_python_images_per_second", eager);
                Map<String, Double> ratio = new LinkedHashMap<>();
                perBatch.forEach((batch, eps) -> {
                    if (eager.containsKey(batch)) {
                        ratio.put(batch, Math.round(eps / eager.get(batch) * 100) / 100.0);
                    }
                });
                report.put("java_vs_eager_python", ratio);
            }
        } finally {
            callers.shutdown();
        }
        System.out.println(json ? new ObjectMapper().writeValueAsString(report) : report);
        return 0;
    }

    /** Images/s of query set {@code a} and of {@code b}, each batch run with one then the other (one predictor). */
    private static double[] interleaved(MqDetModel mqdet, List<PreparedImage> all, int batch, List<QueryCategory> a, List<QueryCategory> b) {
        long[] nanos = new long[2];
        for (int round = -1; round < 1; round++) { // round -1 warms up
            for (int from = 0; from < all.size(); from += batch) {
                List<PreparedImage> slice = all.subList(from, Math.min(from + batch, all.size()));
                for (int which = 0; which < 2; which++) {
                    long started = System.nanoTime();
                    mqdet.detectPrepared(slice, which == 0 ? a : b);
                    if (round == 0) {
                        nanos[which] += System.nanoTime() - started;
                    }
                }
            }
        }
        return new double[] {all.size() / (nanos[0] / 1e9), all.size() / (nanos[1] / 1e9)};
    }

    /** Runs src/test/python/bench_eager.py on the same images and batch sizes. */
    private Map<String, Double> pythonEager() throws Exception {
        Path home = Path.of(System.getenv().getOrDefault("MQDET_HOME", "."));
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3",
                home.resolve("mqdet-inference/src/test/python/bench_eager.py").toString(),
                "--images", Integer.toString(images), "--eval-set", evalSet.toAbsolutePath().toString(),
                "--batches", String.join(",", batches.stream().map(String::valueOf).toList()),
                "--threads", Integer.toString(threads > 0 ? threads : Runtime.getRuntime().availableProcessors())));
        if (model != null) {
            command.addAll(List.of("--model", model.toAbsolutePath().toString()));
        }
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IllegalStateException("the eager Python benchmark failed: " + output);
        }
        Map<String, Double> eager = new LinkedHashMap<>();
        new ObjectMapper().readTree(output).path("eager_images_per_second").fields()
                .forEachRemaining(e -> eager.put(e.getKey(), e.getValue().asDouble()));
        return eager;
    }

    /** The evaluation's multimodal query set: every evaluated category with its label and 5 exemplars. */
    public static List<QueryCategory> multimodalQuerySet(MqDetModel mqdet, EvalSet set) {
        Map<Integer, List<float[]>> bank = Evaluation.exemplarBank(mqdet, set, 5);
        return set.evaluated().stream()
                .map(c -> new QueryCategory(Integer.toString(c.id()), c.name(), bank.getOrDefault(c.id(), List.of())))
                .toList();
    }

    /** Each category with {@code n} negative exemplars: the exemplar vectors of the categories after it, in turn. */
    static List<QueryCategory> withNegatives(List<QueryCategory> querySet, int n) {
        if (n == 0) {
            return querySet;
        }
        List<QueryCategory> out = new ArrayList<>();
        for (int c = 0; c < querySet.size(); c++) {
            QueryCategory q = querySet.get(c);
            List<float[]> negatives = new ArrayList<>();
            for (int k = 1; negatives.size() < n && k < querySet.size(); k++) {
                List<float[]> other = querySet.get((c + k) % querySet.size()).exemplars();
                if (!other.isEmpty()) {
                    negatives.add(other.get(0));
                }
            }
            out.add(new QueryCategory(q.categoryId(), q.label(), q.exemplars(), q.exemplarIds(), negatives, q.scoreThreshold(), q.calibratedThreshold()));
        }
        return out;
    }

    /**
     * Runs {@code work} on each batch of {@code items} ({@code batch} at a time), the batches spread over
     * {@code callers} so that as many run side by side as it has threads; returns when all are done.
     */
    public static <T> void sideBySide(ExecutorService callers, List<T> items, int batch, Consumer<List<T>> work) throws Exception {
        List<Future<?>> running = new ArrayList<>();
        for (int from = 0; from < items.size(); from += batch) {
            List<T> slice = items.subList(from, Math.min(from + batch, items.size()));
            running.add(callers.submit(() -> work.accept(slice)));
        }
        for (Future<?> done : running) {
            done.get();
        }
    }
}
