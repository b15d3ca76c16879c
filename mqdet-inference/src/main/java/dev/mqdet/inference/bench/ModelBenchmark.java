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
            List<QueryCategory> querySet = multimodalQuerySet(mqdet, set);
            List<PreparedImage> all = new ArrayList<>();
            for (int i = 0; i < images; i++) {
                all.add(mqdet.decoder().prepare(set.read(set.images().get(i % set.images().size()))));
            }
            report.put("model", mqdet.modelId());
            report.put("categories", querySet.size());
            report.put("images", images);
            report.put("predictors", predictors);
            Map<String, Double> perBatch = new LinkedHashMap<>();
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
