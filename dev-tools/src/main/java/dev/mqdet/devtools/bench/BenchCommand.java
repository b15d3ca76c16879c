package dev.mqdet.devtools.bench;

import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.Scoring;
import dev.mqdet.client.SyntheticWorld;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.Timings;
import dev.mqdet.inference.ImageDecoder.PreparedImage;
import dev.mqdet.inference.ModelPackage;
import dev.mqdet.inference.MqDetModel;
import dev.mqdet.inference.QueryCategory;
import dev.mqdet.inference.bench.ModelBenchmark;
import dev.mqdet.streams.PipelineApp;
import dev.mqdet.streams.StreamsAppConfig;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.streams.detect.DetectionEvents;
import dev.mqdet.streams.encode.QueryEncoder;
import dev.mqdet.client.PipelineClient;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.topics.Topics;
import dev.mqdet.inference.eval.EvalSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./mqdet bench}: the whole pipeline on the local broker against two references on the same machine,
 * model and images: (a) raw batched model throughput in this JVM (decode + forward + post-processing, batch
 * {@code mqdet.batch.size}, one batch per predictor at a time, as the pipeline runs them), and (b) a naive streams
 * design that calls the model once per record, at batch 1, inside {@code mapValues}: as written, on one partition
 * and one stream thread like the pipeline ({@code naive_eps}), and given the pipeline's parallelism, a stream
 * thread and a partition per predictor ({@code naive_parallel_eps}). Streams throughput is events/s from the first
 * event produced to the last detection read (read_committed); latency is detection read minus image event sent.
 * Each design first runs rounds of {@code --warm-up} events, unmeasured, until the JIT compilers are quiet (under
 * {@link #QUIET_JIT_SHARE} of the machine in a round; at most {@code --warm-up-max-seconds}), so all three are
 * compared in steady state: the in-process broker's and clients' code takes minutes of traffic to compile, and on
 * few cores the compiler otherwise takes its CPU from inference. Then each design is measured {@link #RUNS} times
 * and its better run counts (the raw model before and after the streams designs). Where {@code /proc/stat} exists,
 * it also prints how busy the machine's CPUs were, and the share the JIT compilers took, in each design's better
 * run. A benchmark: it prints.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Pipeline throughput and latency vs raw model and a naive design.")
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--events", defaultValue = "1000", description = "Image events per measured run (default: ${DEFAULT-VALUE}).")
    int events;

    @Option(names = "--warm-up", defaultValue = "300", description = "Events per warm-up round; rounds run through each design"
            + " before it is measured until the JIT is quiet (default: ${DEFAULT-VALUE}).")
    int warmUp;

    @Option(names = "--warm-up-max-seconds", defaultValue = "180", description = "Longest warm-up per design, when the JIT"
            + " does not get quiet sooner (default: ${DEFAULT-VALUE}).")
    int warmUpMaxSeconds;

    /** A warm-up round in which the JIT compilers took less than this share of the machine ends the warm-up. */
    static final double QUIET_JIT_SHARE = 0.03;

    @Option(names = "--batch", defaultValue = "8", description = "Batch size of the pipeline and the raw reference (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--set", description = "key=value settings of the streams app under test (e.g. commit.interval.ms=500).")
    Map<String, String> overrides = new HashMap<>();

    @Option(names = "--json", description = "Print JSON: pipeline_eps, raw_eps, naive_eps, p50_ms, p95_ms, p99_ms and more.")
    boolean json;

    @Option(names = "--eval-set", description = "Scenes to use (default: models/synth-eval of this checkout).")
    Path evalSet;

    @Option(names = "--model", description = "Model package folder (default: the shipped package).")
    Path model;

    @Option(names = "--query-sets", defaultValue = "1", description = "Query sets registered: the benchmark's own and N-1 more of"
            + " 10 text-only categories each, which no event uses (cost of what is registered; default: ${DEFAULT-VALUE}).")
    int querySets;

    @Option(names = "--categories", defaultValue = "9", description = "Categories in the benchmark's query set: its 9 with exemplars,"
            + " then text-only held-out names in turn up to N (default: ${DEFAULT-VALUE}; 1200 is LVIS scale).")
    int categories;

    @Option(names = "--designs", split = ",", defaultValue = "raw,pipeline,naive,naive-parallel",
            description = "Designs to run (default: ${DEFAULT-VALUE}); ratios need raw and the design.")
    List<String> designs;

    /**
     * The query set every design runs against: 9 held-out categories, 5 exemplars each (the README's figures were
     * measured with it). Unlike the demo's set it is not chosen for accuracy: throughput depends on its size only.
     */
    static final List<Integer> BENCH_CATEGORIES = List.of(91, 95, 99, 101, 103, 107, 108, 109, 110);

    /** Measured runs of each design; for the raw model, one before the streams designs and one after. */
    static final int RUNS = 2;

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchCommand()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Path home = Path.of(System.getenv().getOrDefault("MQDET_HOME", "."));
        SyntheticWorld world = SyntheticWorld.load(evalSet != null ? evalSet : home.resolve("models/synth-eval"));
        ModelPackage pkg = model == null ? ModelPackage.shipped() : ModelPackage.load(model);
        List<ExemplarQuery> querySet = benchQuerySet(world);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("model", pkg.modelId());
        report.put("events", events);
        report.put("batch", batch);
        report.put("predictors", predictors());
        report.put("warm_up", warmUp);
        report.put("categories", querySet.size());

        Path work = Files.createTempDirectory("mqdet-bench");
        LocalStack stack = LocalStack.start(work);
        try {
            // Every design is measured twice and its better run counts, so one slow moment of a noisy machine
            // decides no ratio. The raw model runs first and last (the registry and broker settle after start, so
            // the machine is not equally quiet all along), the streams designs twice back to back once warm.
            Burst rawFirst = designs.contains("raw") ? rawThroughput(pkg, world, querySet) : null;
            List<Burst> pipeline = designs.contains("pipeline") ? pipeline(stack, work, pkg, world, querySet, report) : null;
            List<Burst> naive = designs.contains("naive") ? naive(stack, work, pkg, world, querySet, 1) : null;
            List<Burst> naiveParallel = designs.contains("naive-parallel") ? naive(stack, work, pkg, world, querySet, predictors()) : null;
            List<Burst> rawRuns = rawFirst == null ? null : List.of(rawFirst, rawThroughput(pkg, world, querySet));
            putDesign("raw", rawRuns, report);
            putDesign("pipeline", pipeline, report);
            putDesign("naive", naive, report);
            putDesign("naive_parallel", naiveParallel, report);
            putRatio("pipeline_vs_raw", pipeline, rawRuns, report);
            putRatio("pipeline_vs_naive", pipeline, naive, report);
            putRatio("pipeline_vs_naive_parallel", pipeline, naiveParallel, report);
            if (rawRuns != null) {
                report.put("raw_inference_ms_per_image", round(best(rawRuns).modelMsPerImage()));
            }
            if (pipeline != null) {
                // Latency over every measured pipeline event; the events come as a burst, so this is mostly queueing.
                List<Long> latencies = pipeline.stream().flatMap(b -> b.latencies().stream()).sorted().toList();
                report.put("p50_ms", percentile(latencies, 0.50));
                report.put("p95_ms", percentile(latencies, 0.95));
                report.put("p99_ms", percentile(latencies, 0.99));
                // How full the pipeline's batches were and the model's time per image, over its runs.
                report.put("pipeline_batch_mean", round(pipeline.stream().mapToDouble(Burst::batchMean).average().orElseThrow()));
                report.put("pipeline_inference_ms_per_image", round(pipeline.stream().mapToDouble(Burst::modelMsPerImage).average().orElseThrow()));
            }
        } finally {
            stack.close();
        }
        if (json) {
            System.out.println(new ObjectMapper().writeValueAsString(report));
        } else {
            report.forEach((key, value) -> System.out.printf("%-18s %s%n", key, value));
        }
        return 0;
    }

    /** (a) The model alone in this JVM: decode, forward and post-process in batches, every predictor busy. */
    private Burst rawThroughput(ModelPackage pkg, SyntheticWorld world, List<ExemplarQuery> querySet) throws Exception {
        try (MqDetModel mqdet = MqDetModel.load(pkg, MqDetModel.Options.builder().optPoolSize(predictors()).build())) {
            List<QueryCategory> categories = encode(mqdet, querySet);
            List<byte[]> images = new ArrayList<>();
            for (int i = 0; i < events; i++) {
                images.add(world.evalSet().read(world.scene(i)));
            }
            List<byte[]> warmUpImages = new ArrayList<>();
            for (int i = 0; i < warmUp; i++) {
                warmUpImages.add(world.evalSet().read(world.scene(events + i)));
            }
            warmUntilQuiet("raw", () -> runRaw(mqdet, warmUpImages, categories, new LongAdder()));
            LongAdder modelNanos = new LongAdder();
            CpuBusy cpu = measuring();
            long started = System.nanoTime();
            runRaw(mqdet, images, categories, modelNanos);
            double eps = events / ((System.nanoTime() - started) / 1e9);
            System.err.printf("bench: raw batched model %.2f events/s%n", eps);
            return new Burst(eps, List.of(), batch, modelNanos.sum() / 1e6 / events, cpu.fraction(), cpu.jitShare());
        }
    }

    /** Marks on stderr where a measured phase starts (for tools that watch the run) and starts its CPU count. */
    private static CpuBusy measuring() {
        System.err.println("bench: measuring");
        return CpuBusy.start();
    }

    /**
     * Every batch decoded and detected on one of {@code predictors} callers, as the pipeline's workers do; adds the
     * model's own time (as the pipeline's {@code Timings.inferenceMs}) to {@code modelNanos}.
     */
    private void runRaw(MqDetModel mqdet, List<byte[]> images, List<QueryCategory> categories, LongAdder modelNanos) throws Exception {
        ExecutorService callers = Executors.newFixedThreadPool(mqdet.predictors());
        try {
            ModelBenchmark.sideBySide(callers, images, batch, slice -> {
                List<PreparedImage> prepared = slice.stream().map(mqdet.decoder()::prepare).toList();
                modelNanos.add(mqdet.detectBatch(prepared, categories).modelTime().toNanos());
            });
        } finally {
            callers.shutdown();
        }
    }

    /** Heap in use after a full collection: the benchmark's JVM holds the broker, the registry and the app. */
    private static long heapUsedMb() {
        System.gc();
        Runtime runtime = Runtime.getRuntime();
        return (runtime.totalMemory() - runtime.freeMemory()) >> 20;
    }

    private static long folderBytes(Path folder) throws IOException {
        try (var files = Files.walk(folder)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    /** Predictors of the app under test (its default unless {@code --set mqdet.model.predictors=N}); raw and naive get as many. */
    private int predictors() {
        return StreamsAppConfig.of(overrides).getInt(StreamsAppConfig.MODEL_PREDICTORS);
    }

    private static List<QueryCategory> encode(MqDetModel mqdet, List<ExemplarQuery> querySet) {
        List<QueryCategory> categories = new ArrayList<>();
        for (ExemplarQuery query : querySet) {
            categories.add(new QueryCategory(query.getCategoryId(), query.getLabel(), QueryEncoder.vectors(mqdet, query)));
        }
        return categories;
    }

    /** Each design's events/s per run and in its better run, and how busy the machine was then. */
    private static void putDesign(String name, List<Burst> runs, Map<String, Object> report) {
        if (runs != null) {
            report.put(name + "_eps", round(best(runs).eps()));
            report.put(name + "_eps_runs", runs(runs));
            putBusy(name, best(runs), report);
        }
    }

    /** The 9 benchmark categories with 5 exemplars, then text-only categories named after the world's up to {@code --categories}. */
    private List<ExemplarQuery> benchQuerySet(SyntheticWorld world) {
        List<ExemplarQuery> out = new ArrayList<>(world.querySet("bench", world.categories(BENCH_CATEGORIES), 5, true, 1));
        List<EvalSet.Category> names = world.evalSet().categories();
        for (int i = 0; out.size() < categories; i++) {
            ExemplarQuery text = world.querySet("bench", List.of(names.get(i % names.size())), 0, true, 1).get(0);
            text.setCategoryId("text-" + i);
            out.add(text);
        }
        return out;
    }

    /** Events/s of one design's better run over another's, where both ran. */
    private static void putRatio(String key, List<Burst> design, List<Burst> over, Map<String, Object> report) {
        if (design != null && over != null) {
            report.put(key, round(best(design).eps() / best(over).eps()));
        }
    }

    /** The other query sets of {@code --query-sets}: 10 text-only held-out names each, never asked for by an event. */
    private List<ExemplarQuery> fillers(SyntheticWorld world) {
        List<EvalSet.Category> names = world.evalSet().evaluated().subList(0, 10);
        List<ExemplarQuery> out = new ArrayList<>();
        for (int i = 1; i < querySets; i++) {
            out.addAll(world.querySet("registered-" + i, names, 0, true, 1));
        }
        return out;
    }

    /** The real pipeline, warmed up, then {@link #RUNS} measured bursts. */
    private List<Burst> pipeline(LocalStack stack, Path work, ModelPackage pkg, SyntheticWorld world, List<ExemplarQuery> querySet,
                                 Map<String, Object> report) throws Exception {
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "bench-")) {
            client.createTopics(1);
            client.register(querySet);
            List<ExemplarQuery> fillers = fillers(world);
            client.register(fillers);
            Map<String, String> settings = new HashMap<>(StreamsAppConfig.topicNames(client.topicPrefix()));
            settings.put("bootstrap.servers", stack.bootstrapServers());
            settings.put("schema.registry.url", stack.schemaRegistryUrl());
            settings.put("application.id", "mqdet-bench");
            settings.put("state.dir", work.resolve("state").toString());
            settings.put(StreamsAppConfig.BATCH_SIZE, Integer.toString(batch));
            settings.put(StreamsAppConfig.HTTP_PORT, "-1");
            settings.put(StreamsAppConfig.MODEL_DIR, pkg.dir().toString());
            settings.putAll(overrides);
            try (PipelineApp app = PipelineApp.start(StreamsAppConfig.of(settings))) {
                app.awaitRunning(Duration.ofSeconds(90));
                client.awaitEncoded(pkg.modelId(), querySet, Duration.ofMinutes(2));
                if (!fillers.isEmpty()) {
                    long started = System.nanoTime();
                    client.awaitEncoded(pkg.modelId(), fillers, Duration.ofMinutes(30));
                    System.err.printf("bench: %d query sets registered and encoded in %.0f s%n", querySets, (System.nanoTime() - started) / 1e9);
                }
                warmUp(client, world);
                List<Burst> runs = bursts(client, world, "pipeline");
                report.put("query_sets", querySets);
                report.put("registered_categories", querySet.size() + fillers.size());
                report.put("heap_used_mb_after_gc", heapUsedMb());
                report.put("state_dir_mb", Math.round(folderBytes(work.resolve("state")) / 1e5) / 10.0);
                return runs;
            }
        }
    }

    /**
     * {@link #RUNS} bursts of {@code events} image events through a warmed-up streams design, one after the other.
     * Throughput is events/s from the first event produced to the last detection read (read_committed); latency is
     * each detection read minus its image event sent. The reader starts at the end of the detections topic before
     * the clock starts, so it does not read the warm-up's detections on the measured clock.
     */
    private List<Burst> bursts(PipelineClient client, SyntheticWorld world, String design) throws Exception {
        List<Burst> bursts = new ArrayList<>();
        for (int run = 0; run < RUNS; run++) {
            String prefix = "bench-" + run + "-";
            try (PipelineClient.Tail<DetectionEvent> detections = client.tail(Topics.DETECTIONS)) {
                Map<String, Long> producedAt = new HashMap<>();
                Map<String, Long> receivedAt = new HashMap<>();
                CpuBusy cpu = measuring();
                long started = System.currentTimeMillis();
                for (int i = 0; i < events; i++) {
                    producedAt.put(prefix + i, System.currentTimeMillis());
                    client.publish(world.imageEvent(prefix + i, i, "bench"));
                }
                client.flush();
                List<ConsumerRecord<String, DetectionEvent>> out = detections.until(records -> {
                    long now = System.currentTimeMillis();
                    records.forEach(r -> receivedAt.putIfAbsent(r.key(), now));
                    return producedAt.keySet().stream().allMatch(receivedAt::containsKey);
                }, Duration.ofMinutes(30));
                if (out == null) {
                    throw new IllegalStateException("the " + design + " design did not answer every event in 30 minutes");
                }
                long last = producedAt.keySet().stream().mapToLong(receivedAt::get).max().orElseThrow();
                List<Long> latencies = producedAt.entrySet().stream().map(e -> receivedAt.get(e.getKey()) - e.getValue()).toList();
                List<Timings> timings = out.stream().filter(r -> producedAt.containsKey(r.key())).map(r -> r.value().getTimings()).toList();
                Burst burst = new Burst(events / ((last - started) / 1000.0), latencies,
                        timings.stream().mapToInt(Timings::getBatchSize).average().orElseThrow(),
                        timings.stream().mapToDouble(t -> (double) t.getInferenceMs() / t.getBatchSize()).average().orElseThrow(),
                        cpu.fraction(), cpu.jitShare());
                System.err.printf("bench: %s run %d: %.2f events/s%n", design, run + 1, burst.eps());
                bursts.add(burst);
            }
        }
        return bursts;
    }

    /**
     * One measured run: throughput, per-event latency (streams designs), mean batch size and model time per image
     * (from the detections' {@code Timings}; the naive design's are placeholders), and how busy the machine was.
     */
    private record Burst(double eps, List<Long> latencies, double batchMean, double modelMsPerImage, double cpuBusy, double jitShare) {}

    private static Burst best(List<Burst> bursts) {
        return bursts.stream().max(java.util.Comparator.comparingDouble(Burst::eps)).orElseThrow();
    }

    private static List<Double> runs(List<Burst> bursts) {
        return bursts.stream().map(b -> round(b.eps())).toList();
    }

    /** The machine's CPU busy fraction and the JIT's share in the design's better run (where /proc/stat exists). */
    private static void putBusy(String design, Burst best, Map<String, Object> report) {
        if (best.cpuBusy() >= 0) {
            report.put(design + "_cpu_busy", round(best.cpuBusy()));
            report.put(design + "_jit_share", round(best.jitShare()));
        }
    }

    private void warmUp(PipelineClient client, SyntheticWorld world) throws Exception {
        int count = Math.max(1, warmUp);
        int[] round = {0};
        warmUntilQuiet("streams", () -> {
            String prefix = "warmup-" + round[0]++ + "-";
            try (PipelineClient.Tail<DetectionEvent> detections = client.tail(Topics.DETECTIONS)) {
                for (int i = 0; i < count; i++) {
                    client.publish(world.imageEvent(prefix + i, events + i, "bench"));
                }
                client.flush();
                if (detections.until(r -> r.stream().filter(e -> e.key().startsWith(prefix)).count() >= count, Duration.ofMinutes(10)) == null) {
                    throw new IllegalStateException("the warm-up events were not all answered in 10 minutes");
                }
            }
        });
    }

    /** Runs {@code round} until a round leaves the JIT quiet or the warm-up time is up. */
    private void warmUntilQuiet(String design, WarmUpRound round) throws Exception {
        long deadline = System.nanoTime() + warmUpMaxSeconds * 1_000_000_000L;
        for (int n = 1; ; n++) {
            CpuBusy cpu = CpuBusy.start();
            round.run();
            double jit = cpu.jitShare();
            System.err.printf("bench: %s warm-up round %d: JIT compilers took %.0f%% of the machine%n", design, n, 100 * jit);
            if (jit < QUIET_JIT_SHARE || System.nanoTime() > deadline) {
                return;
            }
        }
    }

    private interface WarmUpRound {
        void run() throws Exception;
    }

    /** (b) The naive design: one model call per record, batch 1, inside mapValues, on {@code threads} stream threads and partitions. */
    private List<Burst> naive(LocalStack stack, Path work, ModelPackage pkg, SyntheticWorld world, List<ExemplarQuery> querySet, int threads) throws Exception {
        String name = threads == 1 ? "naive" : "naive-parallel";
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), name + "-");
             MqDetModel mqdet = MqDetModel.load(pkg, MqDetModel.Options.builder().optPoolSize(predictors()).build())) {
            client.createTopics(threads);
            List<QueryCategory> categories = encode(mqdet, querySet);
            Serde<ImageEvent> imageSerde = Topics.IMAGES.valueSerde(client.registry());
            Serde<DetectionEvent> detectionSerde = Topics.DETECTIONS.valueSerde(client.registry());
            dev.mqdet.streams.detect.ImageSource source = new dev.mqdet.streams.detect.ImageSource(List.of(), 16 << 20);
            StreamsBuilder builder = new StreamsBuilder();
            builder.stream(client.topic(Topics.IMAGES), Consumed.with(Serdes.String(), imageSerde))
                    .mapValues(event -> {
                        PreparedImage image = mqdet.decoder().prepare(source.bytes(event));
                        var found = mqdet.detectPrepared(List.of(image), categories).get(0);
                        return DetectionEvent.newBuilder().setEventId(event.getEventId()).setSource(event.getSource())
                                .setQuerySetId(event.getQuerySetId()).setQuerySetVersion(1).setModelId(mqdet.modelId())
                                .setImageWidth(image.width()).setImageHeight(image.height())
                                .setDetections(found.stream().map(DetectionEvents::toEvent).toList())
                                .setTimings(new Timings(0L, 0L, 1, 0L, 0L)).setDetectedAtMs(java.time.Instant.now()).build();
                    })
                    .to(client.topic(Topics.DETECTIONS), Produced.with(Serdes.String(), detectionSerde));
            Properties props = new Properties();
            props.put("bootstrap.servers", stack.bootstrapServers());
            props.put("application.id", "mqdet-bench-" + name);
            props.put("state.dir", work.resolve(name + "-state").toString());
            props.put("processing.guarantee", "exactly_once_v2");
            props.put("num.stream.threads", Integer.toString(threads));
            try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
                streams.start();
                warmUp(client, world);
                return bursts(client, world, name);
            }
        }
    }

    private static double percentile(List<Long> sorted, double p) {
        return sorted.isEmpty() ? -1 : sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
    }

    private static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }
}
