package dev.mqdet.devtools.demo;

import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.Scoring;
import dev.mqdet.client.SyntheticWorld;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mqdet.events.Detection;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.inference.eval.EvalSet;
import dev.mqdet.streams.PipelineApp;
import dev.mqdet.streams.StreamsAppConfig;
import dev.mqdet.testkit.LocalStack;
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
 * each detection event as a JSON line, draws the boxes into PNGs and ends with precision and recall.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Run the pipeline end to end on a local stack.")
public final class DemoCommand implements Callable<Integer> {

    static final String QUERY_SET = "wildlife-demo";

    @Option(names = "--events", defaultValue = "50", description = "Image events to publish (default: ${DEFAULT-VALUE}).")
    int events;

    @Option(names = "--keep-running", description = "Leave the stack and the app running; print their addresses.")
    boolean keepRunning;

    @Option(names = "--out", defaultValue = "demo-out", description = "Folder for annotated PNGs (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--eval-set", description = "Synthetic scenes with ground truth (default: models/synth-eval of this checkout).")
    Path evalSet;

    @Option(names = "--model", description = "Model package folder (default: the shipped package).")
    Path model;

    @Option(names = "--threshold", defaultValue = SyntheticWorld.SHOWCASE_THRESHOLD, description = "Score threshold (default: ${DEFAULT-VALUE}).")
    float threshold;

    public static void main(String[] args) {
        System.exit(new CommandLine(new DemoCommand()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Path home = Path.of(System.getenv().getOrDefault("MQDET_HOME", "."));
        SyntheticWorld world = SyntheticWorld.load(evalSet != null ? evalSet : home.resolve("models/synth-eval"));
        Path work = Files.createTempDirectory("mqdet-demo");
        System.err.println("demo: starting Kafka and the schema registry in " + work);
        LocalStack stack = LocalStack.start(work);
        PipelineApp app = null;
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl())) {
            client.createTopics(2);
            Map<String, String> settings = appSettings(stack, work);
            settings.putAll(StreamsAppConfig.topicNames(client.topicPrefix()));
            app = PipelineApp.start(StreamsAppConfig.of(settings));
            app.awaitRunning(Duration.ofSeconds(60));

            List<EvalSet.Category> categories = world.categories(SyntheticWorld.SHOWCASE_CATEGORIES);
            List<ExemplarQuery> querySet = world.querySet(QUERY_SET, categories, 5, true, 1);
            client.register(querySet);
            client.awaitEncoded(app.model().modelId(), querySet, Duration.ofSeconds(60));
            System.err.println("demo: registered " + querySet.size() + " categories in query set " + QUERY_SET);

            for (int i = 0; i < events; i++) {
                client.publish(world.imageEvent(eventId(i), i, QUERY_SET));
            }
            client.flush();
            List<ConsumerRecord<String, DetectionEvent>> detections = client.detections(r -> r.size() >= events, Duration.ofMinutes(10));
            if (detections == null) {
                System.err.println("demo: not every event was answered within 10 minutes");
                return 1;
            }
            Files.createDirectories(out);
            Scoring scoring = new Scoring();
            ObjectMapper json = new ObjectMapper();
            for (ConsumerRecord<String, DetectionEvent> record : detections) {
                DetectionEvent event = record.value();
                int index = Integer.parseInt(event.getEventId().substring(event.getEventId().lastIndexOf('-') + 1));
                System.out.println(json.writeValueAsString(asJson(event)));
                scoring.add(event.getDetections(), world.truth(index, categories));
                annotate(world, index, event, out.resolve(event.getEventId() + ".png"));
            }
            System.err.println("demo: annotated images in " + out.toAbsolutePath());
            System.out.printf("demo: %d events, %d detection events, precision %.2f, recall %.2f%n",
                    events, detections.size(), scoring.precision(), scoring.recall());
            if (keepRunning) {
                System.err.println("demo: running; Kafka bootstrap " + stack.bootstrapServers()
                        + ", schema registry " + stack.schemaRegistryUrl() + ", health http://127.0.0.1:" + app.httpPort()
                        + "/health/ready; Ctrl-C stops");
                Thread.currentThread().join();
            }
            return 0;
        } finally {
            if (app != null) {
                app.close();
            }
            stack.close();
        }
    }

    private Map<String, String> appSettings(LocalStack stack, Path work) {
        Map<String, String> settings = new HashMap<>();
        settings.put("bootstrap.servers", stack.bootstrapServers());
        settings.put("schema.registry.url", stack.schemaRegistryUrl());
        settings.put("application.id", "mqdet-demo");
        settings.put("state.dir", work.resolve("streams-state").toString());
        settings.put(StreamsAppConfig.HTTP_PORT, keepRunning ? "8080" : "0");
        settings.put(StreamsAppConfig.SCORE_THRESHOLD, Float.toString(threshold));
        if (model != null) {
            settings.put(StreamsAppConfig.MODEL_DIR, model.toString());
        }
        return settings;
    }

    static String eventId(int index) {
        return "demo-" + index;
    }

    static Map<String, Object> asJson(DetectionEvent event) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("eventId", event.getEventId());
        json.put("source", event.getSource());
        json.put("querySetId", event.getQuerySetId());
        json.put("querySetVersion", event.getQuerySetVersion());
        json.put("modelId", event.getModelId());
        json.put("imageWidth", event.getImageWidth());
        json.put("imageHeight", event.getImageHeight());
        json.put("detections", event.getDetections().stream().map(d -> Map.of(
                "categoryId", d.getCategoryId(),
                "label", String.valueOf(d.getLabel()),
                "score", Math.round(d.getScore() * 1000) / 1000.0,
                "box", List.of(d.getBox().getX1(), d.getBox().getY1(), d.getBox().getX2(), d.getBox().getY2()))).toList());
        json.put("timings", Map.of("queueMs", event.getTimings().getQueueMs(), "inferenceMs", event.getTimings().getInferenceMs(),
                "batchSize", event.getTimings().getBatchSize()));
        return json;
    }

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
