package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.events.Detection;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.Exemplar;
import dev.mqdet.events.ExemplarEmbedding;
import dev.mqdet.inference.Box;
import dev.mqdet.inference.eval.EvalSet;
import dev.mqdet.registry.RegistryServer;
import dev.mqdet.registry.config.RegistryConfig;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import dev.mqdet.topics.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The feedback loop on the real broker and registry: a false detection seen in the live view is rejected through
 * the registry's API ("not this"); within 10 seconds the same image no longer yields it, and the category's true
 * objects in other images are still found. A true detection confirmed ("add as exemplar") becomes an exemplar.
 */
@ExtendWith(LocalStackExtension.class)
class FeedbackToDetectionTest {

    private static final String TOKEN = "feedback-test-token-0123";
    private static final String QUERY_SET = "fb";
    private static final int SCENES = 40;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aRejectedDetectionStopsAndAConfirmedOneBecomesAnExemplar(LocalStack stack) throws Exception {
        SyntheticWorld world = TestPipelines.world();
        List<EvalSet.Category> categories = world.categories(SyntheticWorld.SHOWCASE_CATEGORIES);
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "fb-")) {
            client.createTopics(1);
            Map<String, String> settings = TestPipelines.settings(stack, client, "fb");
            settings.put(StreamsAppConfig.SCORE_THRESHOLD, "0.3"); // low enough that look-alikes show up
            try (RegistryServer registry = RegistryServer.start(RegistryConfig.of(registrySettings(stack, client)));
                 PipelineApp app = PipelineApp.start(StreamsAppConfig.of(settings))) {
                app.awaitRunning(Duration.ofSeconds(60));
                Api api = new Api(registry.port());
                List<Map<String, Object>> specs = new ArrayList<>();
                for (EvalSet.Category c : categories) {
                    specs.add(Map.of("categoryId", SyntheticWorld.categoryId(c), "label", c.name(),
                            "exemplars", world.exemplars(c, 4).stream().map(TestPipelines::exemplarJson).toList()));
                }
                assertThat(api.send("POST", "/api/query-sets", Map.of("id", QUERY_SET, "categories", specs)).statusCode()).isEqualTo(201);
                client.read(Topics.EXEMPLAR_EMBEDDINGS, r -> r.size() >= categories.size(), Duration.ofMinutes(2));

                Map<Integer, DetectionEvent> before = detect(client, world, "first-", scenes(SCENES));
                Found wrong = find(before, world, categories, false);
                Found right = find(before, world, categories, true);
                awaitLiveImage(api, "first-" + wrong.scene());

                HttpResponse<String> rejected = api.send("POST", "/api/query-sets/" + QUERY_SET + "/feedback",
                        Map.of("eventId", "first-" + wrong.scene(), "detection", wrong.index(), "verdict", "reject"));
                assertThat(rejected.statusCode()).as(rejected.body()).isEqualTo(201);
                long rejectedAt = System.nanoTime();
                client.read(Topics.EXEMPLAR_EMBEDDINGS, r -> r.stream().map(ConsumerRecord::value)
                        .anyMatch(e -> e != null && e.getCategoryId().equals(wrong.detection().getCategoryId()) && !e.getNegatives().isEmpty()),
                        Duration.ofSeconds(10));
                Map<Integer, DetectionEvent> again = detect(client, world, "again-", List.of(wrong.scene()));
                assertThat(Duration.ofNanos(System.nanoTime() - rejectedAt)).as("from the rejection to an answer without it")
                        .isLessThan(Duration.ofSeconds(10));
                assertThat(again.get(wrong.scene()).getDetections()).as("the rejected detection, asked again")
                        .noneMatch(d -> d.getCategoryId().equals(wrong.detection().getCategoryId()) && iou(d, wrong.detection()) > 0.5);

                List<Integer> others = scenes(SCENES).stream().filter(s -> s != wrong.scene()).toList();
                Map<Integer, DetectionEvent> after = detect(client, world, "after-", others);
                String c = wrong.detection().getCategoryId();
                double recallBefore = recall(before, world, categories, c, others);
                double recallAfter = recall(after, world, categories, c, others);
                System.err.printf("feedback: rejected a %s look-alike in scene %d; recall on %s in %d other scenes %.3f -> %.3f%n",
                        c, wrong.scene(), c, others.size(), recallBefore, recallAfter);
                assertThat(recallAfter).isGreaterThanOrEqualTo(recallBefore - 0.05);

                awaitLiveImage(api, "first-" + right.scene());
                HttpResponse<String> confirmed = api.send("POST", "/api/query-sets/" + QUERY_SET + "/feedback",
                        Map.of("eventId", "first-" + right.scene(), "detection", right.index(), "verdict", "confirm"));
                assertThat(confirmed.statusCode()).as(confirmed.body()).isEqualTo(201);
                JsonNode category = JSON.readTree(api.send("GET", "/api/query-sets/" + QUERY_SET + "/categories/"
                        + right.detection().getCategoryId(), null).body());
                assertThat(category.path("exemplars")).hasSize(5);
                JsonNode added = category.path("exemplars").get(4);
                assertThat(added.path("exemplarId").asText()).isEqualTo(JSON.readTree(confirmed.body()).path("exemplarId").asText());
                assertThat((float) added.path("box").path("x1").asDouble()).isCloseTo(Math.max(0, right.detection().getBox().getX1()), org.assertj.core.data.Offset.offset(0.01f));
                assertThat(JSON.readTree(api.send("GET", "/api/query-sets/" + QUERY_SET + "/categories/" + c, null).body())
                        .path("negatives")).hasSize(1);
            }
        }
    }

    /** A detection in the first answers that is false (no object of its category under it) or true. */
    private record Found(int scene, int index, Detection detection) {}

    private static Found find(Map<Integer, DetectionEvent> events, SyntheticWorld world, List<EvalSet.Category> categories, boolean wantTrue) {
        for (var entry : events.entrySet()) {
            List<SyntheticWorld.Truth> truths = world.truth(entry.getKey(), categories);
            List<Detection> detections = entry.getValue().getDetections();
            for (int i = 0; i < detections.size(); i++) {
                Detection d = detections.get(i);
                boolean isTrue = truths.stream().anyMatch(t -> t.categoryId().equals(d.getCategoryId()) && iou(d, t.box()) >= 0.5);
                if (isTrue == wantTrue) {
                    return new Found(entry.getKey(), i, d);
                }
            }
        }
        throw new IllegalStateException("no " + (wantTrue ? "true" : "false") + " detection in " + events.size() + " scenes");
    }

    private static double recall(Map<Integer, DetectionEvent> events, SyntheticWorld world, List<EvalSet.Category> categories,
                                 String categoryId, List<Integer> scenes) {
        int objects = 0;
        int found = 0;
        for (int scene : scenes) {
            for (SyntheticWorld.Truth t : world.truth(scene, categories)) {
                if (t.categoryId().equals(categoryId)) {
                    objects++;
                    found += events.get(scene).getDetections().stream().anyMatch(d -> d.getCategoryId().equals(categoryId) && iou(d, t.box()) >= 0.5) ? 1 : 0;
                }
            }
        }
        return objects == 0 ? 1 : (double) found / objects;
    }

    private static Map<Integer, DetectionEvent> detect(PipelineClient client, SyntheticWorld world, String prefix, List<Integer> scenes) {
        for (int scene : scenes) {
            client.publish(world.imageEvent(prefix + scene, scene, QUERY_SET));
        }
        client.flush();
        List<ConsumerRecord<String, DetectionEvent>> out = client.detections(r -> scenes.stream()
                .allMatch(s -> r.stream().anyMatch(e -> e.key().equals(prefix + s))), Duration.ofMinutes(2));
        Map<Integer, DetectionEvent> byScene = new HashMap<>();
        for (int scene : scenes) {
            byScene.put(scene, out.stream().filter(e -> e.key().equals(prefix + scene)).findFirst().orElseThrow().value());
        }
        return byScene;
    }

    private static void awaitLiveImage(Api api, String eventId) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (api.send("GET", "/api/live/images/" + eventId, null).statusCode() != 200) {
            assertThat(System.nanoTime()).as("the live view has the image of " + eventId).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private static List<Integer> scenes(int n) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(i);
        }
        return out;
    }

    private static Map<String, String> registrySettings(LocalStack stack, PipelineClient client) {
        Map<String, String> settings = TestPipelines.registrySettings(stack, client, TOKEN, "feedback-test");
        settings.put("registry.live.events", "200");
        return settings;
    }

    private static double iou(Detection d, Detection e) {
        return iou(d, box(e));
    }

    private static double iou(Detection d, Box b) {
        return box(d).iou(b);
    }

    private static Box box(Detection d) {
        return new Box(d.getBox().getX1(), d.getBox().getY1(), d.getBox().getX2(), d.getBox().getY2());
    }

    /** The registry's HTTP API with the write token. */
    private record Api(int port) {
        HttpResponse<String> send(String method, String path, Object body) throws Exception {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/json");
            request.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
        }
    }
}
