package dev.mqdet.devtools.demo;

import dev.mqdet.client.DetectionJson;
import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.Scoring;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.client.TrackScoring;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mqdet.events.Detection;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.inference.eval.EvalSet;
import dev.mqdet.streams.PipelineApp;
import dev.mqdet.streams.StreamsAppConfig;
import dev.mqdet.registry.RegistryServer;
import dev.mqdet.registry.config.RegistryConfig;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.topics.Topics;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.net.URI;
import java.util.Base64;
import java.util.concurrent.CountDownLatch;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./mqdet demo}: the whole pipeline on this machine, for real. Starts a Kafka broker and the schema
 * registry, the streams app with the shipped model, registers a query set (common names, a rare name, an
 * ambiguous pair; text + 5 exemplars each), publishes synthetic image events with known ground truth, prints
 * each detection event as a JSON line, draws the boxes into PNGs and prints precision and recall; then its cameras
 * publish short sequences of frames with moving objects, and it ends with the tracks those became.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Run the pipeline end to end on a local stack.")
public final class DemoCommand implements Callable<Integer> {

    static final String QUERY_SET = "wildlife-demo";

    @Option(names = "--events", defaultValue = "50", description = "Image events to publish (default: ${DEFAULT-VALUE}).")
    int events;

    @Option(names = "--keep-running", description = "Leave the stack and the app running; print their addresses.")
    boolean keepRunning;

    @Option(names = "--http-port", defaultValue = "8080", description = "Health and metrics port of the streams app with --keep-running (default: ${DEFAULT-VALUE}; 0: any free port).")
    int httpPort;

    @Option(names = "--registry-port", defaultValue = "8088", description = "Port of the exemplar registry with --keep-running (default: ${DEFAULT-VALUE}; 0: any free port).")
    int registryPort;

    @Option(names = "--sequences", defaultValue = "3", description = "Camera sequences of " + FRAMES + " frames with moving objects, for tracks (default: ${DEFAULT-VALUE}; 0: none).")
    int sequences;

    @Option(names = "--out", defaultValue = "demo-out", description = "Folder for annotated PNGs (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--eval-set", description = "Synthetic scenes with ground truth (default: models/synth-eval of this checkout).")
    Path evalSet;

    @Option(names = "--model", description = "Model package folder (default: the shipped package).")
    Path model;

    @Option(names = "--threshold", description = "Default score threshold (default: " + SyntheticWorld.SHOWCASE_THRESHOLD
            + " with the showcase categories, the streams app's default with all).")
    Float threshold;

    @Option(names = "--categories", defaultValue = "showcase", description = "showcase (7 categories) or all (the 22 held-out ones); default: ${DEFAULT-VALUE}.")
    String categorySet;

    @Option(names = "--feedback", defaultValue = "0", description = "Before measuring, play the operator on " + FEEDBACK_SCENES
            + " separate scenes: per category reject up to N false detections and confirm up to N true ones through the registry (default: ${DEFAULT-VALUE}: none).")
    int feedback;

    @Option(names = "--shots", defaultValue = "5", description = "Exemplars registered per category (default: ${DEFAULT-VALUE}; fewer leave room for confirmed ones).")
    int shots;

    @Option(names = {"--set"}, description = "key=value settings of the streams app (e.g. mqdet.calibration.enabled=false).")
    Map<String, String> extraSettings = new HashMap<>();

    /** The registry's write token, once it is started. */
    private String registryToken;

    /** Set by the shutdown hook: the JVM is already stopping, so main must not call System.exit (it would block). */
    private static volatile boolean stopping;

    public static void main(String[] args) {
        int code = new CommandLine(new DemoCommand()).execute(args);
        if (!stopping) {
            System.exit(code);
        }
    }

    @Override
    public Integer call() throws Exception {
        if (!categorySet.equals("showcase") && !categorySet.equals("all")) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--categories must be showcase or all, not '" + categorySet + "'");
        }
        if (shots < 1 || shots > 5) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--shots must be 1 to 5 (the eval set holds 5 exemplars per category)");
        }
        Path home = Path.of(System.getenv().getOrDefault("MQDET_HOME", "."));
        SyntheticWorld world = SyntheticWorld.load(evalSet != null ? evalSet : home.resolve("models/synth-eval"));
        int scenes = world.evalSet().images().size();
        if (feedback > 0 && events + FEEDBACK_SCENES > scenes) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--feedback judges " + FEEDBACK_SCENES
                    + " scenes apart from the measured ones: use --events " + (scenes - FEEDBACK_SCENES) + " or fewer");
        }
        Path work = Files.createTempDirectory("mqdet-demo");
        System.err.println("demo: starting Kafka and the schema registry in " + work);
        LocalStack stack = LocalStack.start(work);
        PipelineApp app = null;
        RegistryServer registry = null;
        // SIGTERM or Ctrl-C: let this thread close everything it started (broker, schema registry child process,
        // streams app, exemplar registry) in its finally block, then let the JVM end.
        CountDownLatch stop = new CountDownLatch(1);
        Thread caller = Thread.currentThread();
        Thread hook = new Thread(() -> {
            stopping = true;
            stop.countDown();
            try {
                caller.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl())) {
            client.createTopics(2);
            Map<String, String> settings = appSettings(stack, work);
            settings.putAll(StreamsAppConfig.topicNames(client.topicPrefix()));
            app = PipelineApp.start(StreamsAppConfig.of(settings));
            app.awaitRunning(Duration.ofSeconds(60));

            List<EvalSet.Category> categories = categorySet.equals("all") ? world.evalSet().evaluated()
                    : world.categories(SyntheticWorld.SHOWCASE_CATEGORIES);
            List<ExemplarQuery> querySet = world.querySet(QUERY_SET, categories, shots, true, 1);
            client.register(querySet);
            client.awaitEncoded(app.model().modelId(), querySet, Duration.ofSeconds(60));
            System.err.println("demo: registered " + querySet.size() + " categories in query set " + QUERY_SET);
            if (keepRunning || feedback > 0) {
                registry = startRegistry(stack, client, work);
            }

            if (feedback > 0) {
                Measured before = measure(client, world, categories, "before-", false);
                System.err.printf("demo: before feedback: precision %.2f, recall %.2f%n", before.scoring().precision(), before.scoring().recall());
                FeedbackDemo operator = new FeedbackDemo(world, client, QUERY_SET, categories,
                        URI.create("http://127.0.0.1:" + registry.port()), registryToken);
                System.err.println(operator.run(events, FEEDBACK_SCENES, feedback, Duration.ofMinutes(5)).line());
            }
            Measured measured = measure(client, world, categories, "demo-", true);
            if (measured == null) {
                return 1;
            }
            System.err.println("demo: annotated images in " + out.toAbsolutePath());
            System.out.printf("demo: %d events, %d detection events, precision %.2f, recall %.2f%n",
                    events, measured.answered(), measured.scoring().precision(), measured.scoring().recall());
            if (sequences > 0) {
                TrackScoring.Summary tracks = new TrackDemo(world, client, QUERY_SET)
                        .run(sequences, FRAMES, categories.get(0), categories.get(1), out.resolve("tracks"), Duration.ofMinutes(5));
                System.err.println("demo: camera frames with their track ids in " + out.resolve("tracks").toAbsolutePath());
                System.out.println(tracks.line());
            }
            if (keepRunning) {
                printInstructions(stack, app, registry, categories);
                stop.await();
                System.err.println("demo: stopping");
            }
            return 0;
        } finally {
            if (registry != null) {
                registry.close();
            }
            if (app != null) {
                app.close();
            }
            stack.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException alreadyStopping) {
                // the hook is running: it waits for this thread to return
            }
        }
    }

    /** Scenes the operator judges: the ones right after the measured scenes, so the two never overlap. */
    private static final int FEEDBACK_SCENES = 40;

    private record Measured(Scoring scoring, int answered) {}

    /** Publishes the measured scenes as events {@code prefix + i}, scores the answers, and (when {@code print}) prints and draws them. */
    private Measured measure(PipelineClient client, SyntheticWorld world, List<EvalSet.Category> categories, String prefix, boolean print)
            throws IOException {
        for (int i = 0; i < events; i++) {
            client.publish(world.imageEvent(prefix + i, i, QUERY_SET));
        }
        client.flush();
        List<ConsumerRecord<String, DetectionEvent>> detections = client.detections(
                r -> r.stream().filter(e -> e.key().startsWith(prefix)).count() >= events, Duration.ofMinutes(10));
        if (detections == null) {
            System.err.println("demo: not every event was answered within 10 minutes");
            return null;
        }
        Files.createDirectories(out);
        Scoring scoring = new Scoring();
        ObjectMapper json = new ObjectMapper();
        int answered = 0;
        for (ConsumerRecord<String, DetectionEvent> record : detections) {
            DetectionEvent event = record.value();
            if (!event.getEventId().startsWith(prefix)) {
                continue;
            }
            answered++;
            int index = Integer.parseInt(event.getEventId().substring(prefix.length()));
            scoring.add(event.getDetections(), world.truth(index, categories));
            if (print) {
                System.out.println(json.writeValueAsString(DetectionJson.of(event)));
                annotate(world, index, event, out.resolve(event.getEventId() + ".png"));
            }
        }
        return new Measured(scoring, answered);
    }

    /** The exemplar registry on the demo's topics, with a fresh write token, and its live view of the detections. */
    private RegistryServer startRegistry(LocalStack stack, PipelineClient client, Path work) throws IOException {
        byte[] secret = new byte[24];
        new SecureRandom().nextBytes(secret);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        registryToken = token;
        Map<String, String> settings = new HashMap<>();
        settings.put("bootstrap.servers", stack.bootstrapServers());
        settings.put("schema.registry.url", stack.schemaRegistryUrl());
        settings.put("registry.port", Integer.toString(registryPort));
        settings.put("registry.token", token);
        settings.put("registry.topic", client.topic(Topics.EXEMPLAR_QUERIES));
        settings.put("registry.detections.topic", client.topic(Topics.DETECTIONS));
        settings.put("registry.images.topic", client.topic(Topics.IMAGES));
        settings.put("registry.transactional.id", "mqdet-demo-registry");
        RegistryServer registry = RegistryServer.start(RegistryConfig.of(settings));
        String url = "http://127.0.0.1:" + registry.port();
        Files.createDirectories(out);
        Path env = out.resolve("demo.env");
        Files.writeString(env, "export MQDET_BOOTSTRAP_SERVERS=" + stack.bootstrapServers() + "\n"
                + "export MQDET_SCHEMA_REGISTRY_URL=" + stack.schemaRegistryUrl() + "\n"
                + "export MQDET_REGISTRY_URL=" + url + "\n"
                + "export MQDET_REGISTRY_TOKEN=" + token + "\n");
        try {
            Files.setPosixFilePermissions(env, PosixFilePermissions.fromString("rw-------")); // it holds the write token
        } catch (UnsupportedOperationException notPosix) {
            // best effort on file systems without POSIX permissions
        }
        return registry;
    }

    private void printInstructions(LocalStack stack, PipelineApp app, RegistryServer registry, List<EvalSet.Category> categories) {
        String url = "http://127.0.0.1:" + registry.port() + "/";
        Path env = out.resolve("demo.env").toAbsolutePath();
        System.err.println("demo: running. Kafka bootstrap " + stack.bootstrapServers() + ", schema registry " + stack.schemaRegistryUrl()
                + ", streams app health http://127.0.0.1:" + app.httpPort() + "/health/ready");
        System.err.println("demo: exemplar registry page " + url + " (query set " + QUERY_SET + ", " + categories.size()
                + " categories; live detections at the bottom)");
        System.err.println("demo: registry write token and addresses in " + env + " (the page asks for the token when you save)");
        System.err.println("demo: to add a category and see it detected, in another shell:");
        System.err.println("  source " + env);
        System.err.println("  ./mqdet registry add --query-set " + QUERY_SET + " --category pupfish --label \"devil's hole pupfish\" \\");
        System.err.println("      --exemplar models/synth-eval/exemplars/exemplar_0001.png:177,139,236,186");
        System.err.println("  ./mqdet produce --images models/synth-eval/images/eval_0022.png --query-set " + QUERY_SET + " --wait");
        System.err.println("demo: Ctrl-C stops everything");
    }

    private Map<String, String> appSettings(LocalStack stack, Path work) {
        Map<String, String> settings = new HashMap<>();
        settings.put("bootstrap.servers", stack.bootstrapServers());
        settings.put("schema.registry.url", stack.schemaRegistryUrl());
        settings.put("application.id", "mqdet-demo");
        settings.put("state.dir", work.resolve("streams-state").toString());
        settings.put(StreamsAppConfig.HTTP_PORT, keepRunning ? Integer.toString(httpPort) : "0");
        if (threshold != null || !categorySet.equals("all")) {
            settings.put(StreamsAppConfig.SCORE_THRESHOLD, threshold != null ? Float.toString(threshold) : SyntheticWorld.SHOWCASE_THRESHOLD);
        }
        // The cameras' frames come as one burst keyed by event id, so a source's frames cross partitions; the grace
        // lets the later ones catch up, and tracks end 2 s after their camera's last frame so the demo can score them.
        settings.put(StreamsAppConfig.TRACKS_GRACE_MS, "2000");
        settings.put(StreamsAppConfig.TRACKS_MAX_IDLE_MS, "2000");
        if (model != null) {
            settings.put(StreamsAppConfig.MODEL_DIR, model.toString());
        }
        settings.putAll(extraSettings);
        return settings;
    }

    private static final int FRAMES = 30;

    private static void annotate(SyntheticWorld world, int index, DetectionEvent event, Path file) throws IOException {
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(world.evalSet().read(world.scene(index))));
        Graphics2D g = image.createGraphics();
        g.setStroke(new BasicStroke(2f));
        for (Detection d : event.getDetections()) {
            g.setColor(Color.getHSBColor((Math.abs(d.getCategoryId().hashCode()) % 360) / 360f, 0.9f, 0.9f));
            int x = Math.round(d.getBox().getX1());
            int y = Math.round(d.getBox().getY1());
            g.drawRect(x, y, Math.round(d.getBox().getX2()) - x, Math.round(d.getBox().getY2()) - y);
            g.drawString(String.format("%s %.2f", d.getLabel() == null ? d.getCategoryId() : d.getLabel(), d.getScore()), x + 2, Math.max(10, y - 2));
        }
        g.dispose();
        ImageIO.write(image, "png", file.toFile());
    }
}
