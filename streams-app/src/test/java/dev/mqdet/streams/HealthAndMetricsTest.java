package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.client.PipelineClient;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Readiness follows Kafka Streams' state; Prometheus metrics count events in and out, batches and dead letters. */
@ExtendWith(LocalStackExtension.class)
class HealthAndMetricsTest {

    @Test
    void readinessAndPrometheusMetricsOverHttp(LocalStack stack) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        var world = TestPipelines.world();
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "health-")) {
            client.createTopics(1);
            var queries = world.querySet("health", world.categories(List.of(91)), 5, true, 1);
            client.register(queries);
            PipelineApp app = PipelineApp.start(StreamsAppConfig.of(TestPipelines.settings(stack, client, "health")));
            try {
                String base = "http://127.0.0.1:" + app.httpPort();
                assertThat(get(http, base + "/health/live").statusCode()).isEqualTo(200);
                app.awaitRunning(Duration.ofSeconds(60));
                HttpResponse<String> ready = get(http, base + "/health/ready");
                assertThat(ready.statusCode()).isEqualTo(200);
                assertThat(ready.body()).isEqualTo("RUNNING");

                client.awaitEncoded(app.model().modelId(), queries, Duration.ofMinutes(1));
                client.publish(world.imageEvent("health-1", 0, "health"));
                client.publishRaw("health-bad".getBytes(), new byte[] {9});
                client.flush();
                client.detections(r -> r.stream().anyMatch(e -> e.key().equals("health-1")), Duration.ofMinutes(1));
                client.deadLetters(r -> !r.isEmpty(), Duration.ofMinutes(1));
                String metrics = get(http, base + "/metrics").body();
                assertThat(metrics).contains("mqdet_events_in_total 2.0", "mqdet_events_out_total 1.0",
                        "mqdet_dead_letters_total{stage=\"deserialize\"} 1.0", "mqdet_inference_seconds_count",
                        "mqdet_batch_size_count", "mqdet_batches_in_flight 0.0", "kafka_stream_");
            } finally {
                app.close();
            }
            assertThat(app.streams().state().isRunningOrRebalancing()).isFalse();
        }
    }

    private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
