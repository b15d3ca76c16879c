package dev.mqdet.devtools.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.inference.ModelPackage;
import dev.mqdet.streams.PipelineApp;
import dev.mqdet.streams.StreamsAppConfig;
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
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./mqdet bench-latency}: how soon an event's answer arrives, as a camera pipeline is judged. Measures the
 * pipeline's capacity first (events/s at saturation: a burst, as {@code bench} does), then produces one event at a
 * time at steady rates of 0.1, 0.5 and 0.9 of it and times each answer as a {@code read_committed} consumer sees it.
 * Per rate: end-to-end p50/p95/p99 (produce to detection read), the model's time per event (its batch's forward),
 * and the rest. Broker, registry, app and clients share this machine's cores.
 */
@Command(name = "bench-latency", mixinStandardHelpOptions = true, description = "End-to-end latency at 0.1, 0.5 and 0.9 of capacity.")
public final class LatencyBenchCommand implements Callable<Integer> {

    @Option(names = "--guarantee", defaultValue = "exactly_once_v2", description = "exactly_once_v2 or at_least_once (default: ${DEFAULT-VALUE}).")
    String guarantee;

    @Option(names = "--seconds", defaultValue = "30", description = "How long each rate is held (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--fractions", split = ",", defaultValue = "0.1,0.5,0.9", description = "Rates as fractions of capacity (default: ${DEFAULT-VALUE}).")
    List<Double> fractions;

    @Option(names = "--capacity-events", defaultValue = "600", description = "Events of the capacity burst (default: ${DEFAULT-VALUE}).")
    int capacityEvents;

    @Option(names = "--warm-up", defaultValue = "600", description = "Events sent before anything is measured (default: ${DEFAULT-VALUE}).")
    int warmUp;

    @Option(names = "--set", description = "key=value settings of the streams app under test (e.g. commit.interval.ms=50, mqdet.batch.dispatch=fill).")
    Map<String, String> overrides = new HashMap<>();

    @Option(names = "--json", description = "Print one JSON object: capacity_eps, guarantee, loads[...].")
    boolean json;

    private final Map<String, Long> sentAt = new ConcurrentHashMap<>();
    /** eventId -> {received nanos, model ms, batch wait ms, predictor wait ms, detected-to-read ms}. */
    private final Map<String, long[]> answered = new ConcurrentHashMap<>();
    private int sequence;

    public static void main(String[] args) {
        System.exit(new CommandLine(new LatencyBenchCommand()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Path home = Path.of(System.getenv().getOrDefault("MQDET_HOME", "."));
        SyntheticWorld world = SyntheticWorld.load(home.resolve("models/synth-eval"));
        ModelPackage pkg = ModelPackage.shipped();
        List<ExemplarQuery> querySet = world.querySet("bench", world.categories(BenchCommand.BENCH_CATEGORIES), 5, true, 1);
        Map<String, Object> report = new LinkedHashMap<>();
        Path work = Files.createTempDirectory("mqdet-bench-latency");
        try (LocalStack stack = LocalStack.start(work);
             PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "lat-")) {
            client.createTopics(1);
            client.register(querySet);
            Map<String, String> settings = new HashMap<>(StreamsAppConfig.topicNames(client.topicPrefix()));
            settings.put("bootstrap.servers", stack.bootstrapServers());
            settings.put("schema.registry.url", stack.schemaRegistryUrl());
            settings.put("application.id", "mqdet-bench-latency");
            settings.put("state.dir", work.resolve("state").toString());
            settings.put("processing.guarantee", guarantee);
            settings.put(StreamsAppConfig.HTTP_PORT, "-1");
            settings.putAll(overrides);
            try (PipelineApp app = PipelineApp.start(StreamsAppConfig.of(settings));
                 PipelineClient.Tail<DetectionEvent> tail = client.tail(Topics.DETECTIONS)) {
                app.awaitRunning(Duration.ofSeconds(90));
                client.awaitEncoded(pkg.modelId(), querySet, Duration.ofMinutes(2));
                AtomicBoolean reading = new AtomicBoolean(true);
                Thread reader = new Thread(() -> read(tail, reading), "bench-latency-reader");
                reader.start();
                try {
                    burst(client, world, warmUp);
                    double capacity = burst(client, world, capacityEvents);
                    System.err.printf("bench-latency: capacity %.1f events/s%n", capacity);
                    report.put("capacity_eps", round(capacity));
                    report.put("guarantee", guarantee);
                    report.put("settings", overrides);
                    List<Map<String, Object>> loads = new ArrayList<>();
                    for (double fraction : fractions) {
                        loads.add(steady(client, world, fraction, capacity * fraction));
                    }
                    report.put("loads", loads);
                } finally {
                    reading.set(false);
                    reader.join();
                }
            }
        }
        if (json) {
            System.out.println(new ObjectMapper().writeValueAsString(report));
        } else {
            System.out.printf("capacity %.1f events/s, %s %s%n", report.get("capacity_eps"), guarantee, overrides);
            for (Object load : (List<?>) report.get("loads")) {
                System.out.println(load);
            }
        }
        return 0;
    }

    /** The reader: stamps each detection event as a read_committed consumer sees it. */
    private void read(PipelineClient.Tail<DetectionEvent> tail, AtomicBoolean reading) {
        while (reading.get()) {
            for (ConsumerRecord<String, DetectionEvent> record : tail.poll(Duration.ofMillis(5))) {
                long now = System.nanoTime();
                DetectionEvent event = record.value();
                long afterDetection = System.currentTimeMillis() - event.getDetectedAtMs().toEpochMilli();
                answered.putIfAbsent(record.key(), new long[] {now, event.getTimings().getInferenceMs(),
                        event.getTimings().getBatchWaitMs(), event.getTimings().getPredictorWaitMs(), afterDetection});
            }
        }
    }

    /** As many events as fast as they go; events/s from the first sent to the last answered. */
    private double burst(PipelineClient client, SyntheticWorld world, int count) throws InterruptedException {
        List<String> ids = new ArrayList<>(count);
        long started = System.nanoTime();
        for (int i = 0; i < count; i++) {
            ids.add(send(client, world, false));
        }
        client.flush();
        long last = awaitAnswers(ids, Duration.ofMinutes(5));
        return count / ((last - started) / 1e9);
    }

    /** One event at a time at {@code rate} for {@code seconds}; the latency of each answer. */
    private Map<String, Object> steady(PipelineClient client, SyntheticWorld world, double fraction, double rate) throws InterruptedException {
        int count = Math.max(10, (int) Math.round(rate * seconds));
        System.err.printf("bench-latency: %.0f%% of capacity, %.1f events/s, %d events%n", fraction * 100, rate, count);
        List<String> ids = new ArrayList<>(count);
        long started = System.nanoTime();
        for (int i = 0; i < count; i++) {
            long due = started + (long) (i * 1e9 / rate);
            long wait = due - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
            ids.add(send(client, world, true));
        }
        awaitAnswers(ids, Duration.ofMinutes(2));
        List<Long> latencies = new ArrayList<>();
        List<Long> model = new ArrayList<>();
        List<Long> rest = new ArrayList<>();
        List<Long> batchWait = new ArrayList<>();
        List<Long> predictorWait = new ArrayList<>();
        List<Long> afterDetection = new ArrayList<>();
        for (String id : ids) {
            long[] answer = answered.get(id);
            if (answer != null) {
                long ms = (answer[0] - sentAt.get(id)) / 1_000_000;
                latencies.add(ms);
                model.add(answer[1]);
                rest.add(ms - answer[1]);
                batchWait.add(answer[2]);
                predictorWait.add(answer[3]);
                afterDetection.add(answer[4]);
            }
        }
        Map<String, Object> load = new LinkedHashMap<>();
        load.put("fraction", fraction);
        load.put("rate_eps", round(rate));
        load.put("p50_ms", percentile(latencies, 0.50));
        load.put("p95_ms", percentile(latencies, 0.95));
        load.put("p99_ms", percentile(latencies, 0.99));
        load.put("model_ms_p50", percentile(model, 0.50));
        load.put("rest_ms_p50", percentile(rest, 0.50));
        // where the rest goes: in the batch buffer, from dispatch to the forward, from detection to the reader
        load.put("batch_wait_ms_p50", percentile(batchWait, 0.50));
        load.put("predictor_wait_ms_p50", percentile(predictorWait, 0.50));
        load.put("detected_to_read_ms_p50", percentile(afterDetection, 0.50));
        load.put("model_ms_p99", percentile(model, 0.99));
        load.put("predictor_wait_ms_p99", percentile(predictorWait, 0.99));
        load.put("detected_to_read_ms_p99", percentile(afterDetection, 0.99));
        load.put("answered", latencies.size());
        load.put("sent", ids.size());
        return load;
    }

    private String send(PipelineClient client, SyntheticWorld world, boolean flushEach) {
        int index = sequence++;
        String id = "lat-" + index;
        ImageEvent event = world.imageEvent(id, index, "bench");
        sentAt.put(id, System.nanoTime());
        client.publish(event);
        if (flushEach) {
            client.flush(); // one event at a time: sent now, not lingering for company
        }
        return id;
    }

    /** Waits until every id is answered; returns when the last answer was read. */
    private long awaitAnswers(List<String> ids, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            long last = 0;
            boolean all = true;
            for (String id : ids) {
                long[] answer = answered.get(id);
                if (answer == null) {
                    all = false;
                    break;
                }
                last = Math.max(last, answer[0]);
            }
            if (all) {
                return last;
            }
            Thread.sleep(5);
        }
        throw new IllegalStateException("not every event was answered within " + timeout);
    }

    private static double percentile(List<Long> values, double p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
    }

    private static double round(double value) {
        return Math.round(value * 10) / 10.0;
    }
}
