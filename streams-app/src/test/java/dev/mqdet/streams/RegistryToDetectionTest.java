package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.Exemplar;
import dev.mqdet.inference.eval.EvalSet;
import dev.mqdet.registry.RegistryServer;
import dev.mqdet.registry.config.RegistryConfig;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.client.PipelineClient;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import dev.mqdet.topics.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The registry and the streams app together: a category created through the registry's HTTP API (the API the
 * web page calls) with two exemplars is detected in the next image event, with no restart of anything.
 * The web page's own part (drawing the boxes, saving) is WebPageTest in the exemplar-registry module.
 */
@ExtendWith(LocalStackExtension.class)
class RegistryToDetectionTest {

    private static final String TOKEN = "registry-to-detection-token";

    @Test
    void categoryCreatedInTheRegistryIsDetectedInTheNextImageEvent(LocalStack stack) throws Exception {
        SyntheticWorld world = TestPipelines.world();
        EvalSet.Category category = world.categories(List.of(92)).get(0); // green dotted diamond
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "reg-")) {
            client.createTopics(1);
            Map<String, String> registrySettings = TestPipelines.registrySettings(stack, client, TOKEN, "registry-to-detection");
            registrySettings.put("registry.live.enabled", "false");
            try (RegistryServer registry = RegistryServer.start(RegistryConfig.of(registrySettings));
                 PipelineApp app = PipelineApp.start(StreamsAppConfig.of(TestPipelines.settings(stack, client, "reg")))) {
                app.awaitRunning(Duration.ofSeconds(60));

                List<Map<String, Object>> exemplars = world.exemplars(category, 2).stream().map(TestPipelines::exemplarJson).toList();
                String body = new ObjectMapper().writeValueAsString(Map.of("label", category.name(), "exemplars", exemplars));
                HttpResponse<String> created = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + registry.port() + "/api/query-sets/live/categories/diamond"))
                        .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/json")
                        .PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(created.statusCode()).as(created.body()).isBetween(200, 201);

                client.read(Topics.EXEMPLAR_EMBEDDINGS, r -> r.stream().anyMatch(e -> e.key().endsWith("/live/diamond")), Duration.ofMinutes(1));
                int scene = sceneWith(world, category);
                client.publish(world.imageEvent("after-registry", scene, "live"));
                client.flush();
                List<ConsumerRecord<String, DetectionEvent>> out = client.detections(
                        r -> r.stream().anyMatch(e -> e.key().equals("after-registry")), Duration.ofMinutes(1));
                assertThat(out).isNotNull();
                DetectionEvent event = out.stream().filter(e -> e.key().equals("after-registry")).findFirst().orElseThrow().value();
                assertThat(event.getDetections()).extracting(d -> d.getCategoryId()).contains("diamond");
            }
        }
    }

    private static int sceneWith(SyntheticWorld world, EvalSet.Category category) {
        for (int i = 0; i < world.evalSet().images().size(); i++) {
            if (!world.truth(i, List.of(category)).isEmpty()) {
                return i;
            }
        }
        throw new IllegalStateException("no scene shows " + category.name());
    }
}
