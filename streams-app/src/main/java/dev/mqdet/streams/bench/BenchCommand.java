package dev.mqdet.streams.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.inference.ImageDecoder.PreparedImage;
import dev.mqdet.inference.ModelPackage;
import dev.mqdet.inference.MqDetModel;
import dev.mqdet.inference.QueryCategory;
import dev.mqdet.inference.bench.ModelBenchmark;
import dev.mqdet.streams.PipelineApp;
import dev.mqdet.streams.StreamsAppConfig;
import dev.mqdet.streams.demo.DemoWorld;
import dev.mqdet.streams.detect.BatchedDetectionProcessor;
import dev.mqdet.streams.encode.ExemplarEncodingProcessor;
import dev.mqdet.streams.demo.PipelineClient;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.topics.Topics;
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
 * {@code mqdet.batch.size}, one batch per predictor at a time, as the pipeline runs them; measured before and
 * after the other two, the better run counts), and (b) a naive streams design that calls the model once per
 * record, at batch 1, inside {@code mapValues}: as written, on one partition and one stream thread like the
 * pipeline ({@code naive_eps}), and given the pipeline's parallelism, a stream thread and a partition per predictor
 * ({@code naive_parallel_eps}). Pipeline throughput is events/s from the first event produced to the last detection
 * consumed (read_committed); latency is detection consumed minus image event produced. Each design first runs
 * rounds of {@code --warm-up} events, unmeasured, until the JIT compilers are quiet (under {@link #QUIET_JIT_SHARE}
 * of the machine in a round; at most {@code --warm-up-max-seconds}), so all three are compared in steady state:
 * the in-process broker's and clients' code takes minutes of traffic to compile, and on few cores the compiler
 * otherwise takes its CPU from inference. Where {@code /proc/stat}
 * exists, it also prints how busy the machine's CPUs were, and the share the JIT compilers took, while each design was measured. A benchmark: it prints.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Pipeline throughput and latency vs raw model and a naive design.")
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--events", defaultValue = "200", description = "Image events per measurement (default: ${DEFAULT-VALUE}).")
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

    /**
     * The query set every design runs against: 9 held-out categories, 5 exemplars each (the README's figures were
     * measured with it). Unlike the demo's set it is not chosen for accuracy: throughput depends on its size only.
     */
    static final List<Integer> BENCH_CATEGORIES = List.of(91, 95, 99, 101, 103, 107, 108, 109, 110);

    /** Machine CPU busy fraction and JIT share per measured phase (negative where unknown). */
    private final Map<String, Double> busy = new LinkedHashMap<>();

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchCommand()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Path home = Path.of(System.getenv().getOrDefault("MQDET_HOME", "."));
        DemoWorld world = DemoWorld.load(evalSet != null ? evalSet : home.resolve("models/synth-eval"));
        ModelPackage pkg = model == null ? ModelPackage.shipped() : ModelPackage.load(model);
        List<ExemplarQuery> querySet = world.querySet("bench", world.categories(BENCH_CATEGORIES), 5, true, 1);
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
            // The raw model is measured first and last: the machine is not equally quiet all along (the registry
            // and broker settle after start), and the ratio is taken against the better of the two, the harder bar.
            double rawFirst = rawThroughput(pkg, world, querySet);
            Map<String, Double> pipeline = pipeline(stack, work, pkg, world, querySet);
            double naive = naive(stack, work, pkg, world, querySet, 1);
            double naiveParallel = naive(stack, work, pkg, world, querySet, predictors());
            double rawLast = rawThroughput(pkg, world, querySet);
            double raw = Math.max(rawFirst, rawLast);
            report.put("raw_eps", round(raw));
            report.put("raw_eps_first_last", List.of(round(rawFirst), round(rawLast)));
            report.putAll(pipeline);
            report.put("naive_eps", round(naive));
            report.put("naive_parallel_eps", round(naiveParallel));
            report.put("pipeline_vs_raw", round(pipeline.get("pipeline_eps") / raw));
            report.put("pipeline_vs_naive", round(pipeline.get("pipeline_eps") / naive));
            report.put("pipeline_vs_naive_parallel", round(pipeline.get("pipeline_eps") / naiveParallel));
            busy.forEach((key, value) -> { if (value >= 0) report.put(key, round(value)); });
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
    private double rawThroughput(ModelPackage pkg, DemoWorld world, List<ExemplarQuery> querySet) throws Exception {
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
            warmUntilQuiet("raw", () -> runRaw(mqdet, warmUpImages, categories));
            CpuBusy cpu = measuring();
            long started = System.nanoTime();
            runRaw(mqdet, images, categories);
            double eps = events / ((System.nanoTime() - started) / 1e9);
            busy.merge("raw_cpu_busy", cpu.fraction(), Math::min);
            busy.merge("raw_jit_share", cpu.jitShare(), Math::min);
            System.err.printf("bench: raw batched model %.2f events/s%n", eps);
            return eps;
        }
    }

    /** Marks on stderr where a measured phase starts (for tools that watch the run) and starts its CPU count. */
    private static CpuBusy measuring() {
        System.err.println("bench: measuring");
        return CpuBusy.start();
    }

    /** Every batch decoded and detected on one of {@code predictors} callers, as the pipeline's workers do. */
    private void runRaw(MqDetModel mqdet, List<byte[]> images, List<QueryCategory> categories) throws Exception {
        ExecutorService callers = Executors.newFixedThreadPool(mqdet.predictors());
        try {
            ModelBenchmark.sideBySide(callers, images, batch, slice -> mqdet.detect(slice, categories));
        } finally {
            callers.shutdown();
        }
    }

    /** Predictors of the app under test (its default unless {@code --set mqdet.model.predictors=N}); raw and naive get as many. */
    private int predictors() {
        return StreamsAppConfig.of(overrides).getInt(StreamsAppConfig.MODEL_PREDICTORS);
    }

    private static List<QueryCategory> encode(MqDetModel mqdet, List<ExemplarQuery> querySet) {
        List<QueryCategory> categories = new ArrayList<>();
        for (ExemplarQuery query : querySet) {
            categories.add(new QueryCategory(query.getCategoryId(), query.getLabel(), ExemplarEncodingProcessor.vectors(mqdet, query)));
        }
        return categories;
    }

    /** The real pipeline: events pre-produced as a backlog, then the app started; clock from start to last answer. */
    private Map<String, Double> pipeline(LocalStack stack, Path work, ModelPackage pkg, DemoWorld world, List<ExemplarQuery> querySet) throws Exception {
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "bench-")) {
            client.createTopics(1);
            client.register(querySet);
            Map<String, String> settings = new HashMap<>(client.topicSettings());
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
                warmUp(client, world);
                Map<String, Long> producedAt = new HashMap<>();
                Map<String, Long> receivedAt = new HashMap<>();
                CpuBusy cpu = measuring();
                long started = System.currentTimeMillis();
                for (int i = 0; i < events; i++) {
                    producedAt.put("bench-" + i, System.currentTimeMillis());
                    client.publish(world.imageEvent("bench-" + i, i, "bench"));
                }
                client.flush();
                // End-to-end latency: from the send of an image event to its detection being readable (read_committed).
                List<ConsumerRecord<String, dev.mqdet.events.DetectionEvent>> out = client.detections(records -> {
                    long now = System.currentTimeMillis();
                    records.forEach(r -> receivedAt.putIfAbsent(r.key(), now));
                    return records.stream().filter(e -> e.key().startsWith("bench-")).count() >= events;
                }, Duration.ofMinutes(20));
                if (out == null) {
                    throw new IllegalStateException("the pipeline did not answer every event in 20 minutes");
                }
                long last = receivedAt.entrySet().stream().filter(e -> e.getKey().startsWith("bench-")).mapToLong(Map.Entry::getValue).max().orElseThrow();
                List<Long> latencies = new ArrayList<>();
                producedAt.forEach((id, sent) -> latencies.add(receivedAt.get(id) - sent));
                latencies.sort(Long::compare);
                Map<String, Double> result = new LinkedHashMap<>();
                double eps = events / ((last - started) / 1000.0);
                result.put("pipeline_eps", round(eps));
                result.put("p50_ms", (double) percentile(latencies, 0.50));
                result.put("p95_ms", (double) percentile(latencies, 0.95));
                result.put("p99_ms", (double) percentile(latencies, 0.99));
                busy.put("pipeline_cpu_busy", cpu.fraction());
                busy.put("pipeline_jit_share", cpu.jitShare());
                System.err.printf("bench: pipeline %.2f events/s%n", eps);
                return result;
            }
        }
    }

    private void warmUp(PipelineClient client, DemoWorld world) throws Exception {
        int count = Math.max(1, warmUp);
        int[] round = {0};
        warmUntilQuiet("streams", () -> {
            String prefix = "warmup-" + round[0]++ + "-";
            for (int i = 0; i < count; i++) {
                client.publish(world.imageEvent(prefix + i, events + i, "bench"));
            }
            client.flush();
            if (client.detections(r -> r.stream().filter(e -> e.key().startsWith(prefix)).count() >= count, Duration.ofMinutes(10)) == null) {
                throw new IllegalStateException("the warm-up events were not all answered in 10 minutes");
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
    private double naive(LocalStack stack, Path work, ModelPackage pkg, DemoWorld world, List<ExemplarQuery> querySet, int threads) throws Exception {
        String name = threads == 1 ? "naive" : "naive-parallel";
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), name + "-");
             MqDetModel mqdet = MqDetModel.load(pkg, MqDetModel.Options.builder().optPoolSize(predictors()).build())) {
            client.createTopics(threads);
            List<QueryCategory> categories = encode(mqdet, querySet);
            Serde<ImageEvent> imageSerde = Topics.IMAGES.valueSerde(client.registry());
            Serde<dev.mqdet.events.DetectionEvent> detectionSerde = Topics.DETECTIONS.valueSerde(client.registry());
            dev.mqdet.streams.detect.ImageSource source = new dev.mqdet.streams.detect.ImageSource(List.of(), 16 << 20);
            StreamsBuilder builder = new StreamsBuilder();
            builder.stream(client.topic(Topics.IMAGES), Consumed.with(Serdes.String(), imageSerde))
                    .mapValues(event -> {
                        PreparedImage image = mqdet.decoder().prepare(source.bytes(event));
                        var found = mqdet.detectPrepared(List.of(image), categories).get(0);
                        return dev.mqdet.events.DetectionEvent.newBuilder().setEventId(event.getEventId()).setSource(event.getSource())
                                .setQuerySetId(event.getQuerySetId()).setQuerySetVersion(1).setModelId(mqdet.modelId())
                                .setImageWidth(image.width()).setImageHeight(image.height())
                                .setDetections(found.stream().map(BatchedDetectionProcessor::toEvent).toList())
                                .setTimings(new dev.mqdet.events.Timings(0L, 0L, 1)).setDetectedAtMs(java.time.Instant.now()).build();
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
                CpuBusy cpu = measuring();
                long started = System.currentTimeMillis();
                for (int i = 0; i < events; i++) {
                    client.publish(world.imageEvent("bench-" + i, i, "bench"));
                }
                client.flush();
                if (client.detections(r -> r.stream().filter(e -> e.key().startsWith("bench-")).count() >= events, Duration.ofMinutes(30)) == null) {
                    throw new IllegalStateException("the naive design did not answer every event in 30 minutes");
                }
                double eps = events / ((System.currentTimeMillis() - started) / 1000.0);
                String key = name.replace('-', '_');
                busy.put(key + "_cpu_busy", cpu.fraction());
                busy.put(key + "_jit_share", cpu.jitShare());
                System.err.printf("bench: %s per-record design (%d stream threads) %.2f events/s%n", name, threads, eps);
                return eps;
            }
        }
    }

    private static long percentile(List<Long> sorted, double p) {
        return sorted.isEmpty() ? -1 : sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
    }

    private static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }
}
