package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.client.PipelineClient;
import dev.mqdet.testkit.ApicurioRegistry;
import dev.mqdet.testkit.ChildJvm;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code ./mqdet streams} as a real process: SIGTERM closes Kafka Streams and the HTTP server within 30 s. */
@ExtendWith(LocalStackExtension.class)
class SigtermTest {

    @Test
    void sigtermStopsTheRunningAppWithin30Seconds(LocalStack stack) throws Exception {
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "sigterm-")) {
            client.createTopics(1);
            Map<String, String> settings = TestPipelines.settings(stack, client, "sigterm");
            int port = ApicurioRegistry.freePort();
            settings.put(StreamsAppConfig.HTTP_PORT, Integer.toString(port));
            List<String> args = new ArrayList<>();
            settings.forEach((key, value) -> args.addAll(List.of("--set", key + "=" + value)));
            try (ChildJvm app = ChildJvm.start(StreamsMain.class.getName(), args, Map.of(),
                    TestPipelines.tempDir("sigterm-log").resolve("app.log"))) {
                awaitReady(app, port, Duration.ofMinutes(3));

                Duration took = app.terminate(Duration.ofSeconds(30));

                assertThat(took).as("exited within 30 s of SIGTERM; log:%n%s", app.log()).isNotNull();
                assertThat(app.descendants()).isEmpty();
                assertThat(ChildJvm.listening(port)).as("the HTTP server stopped").isFalse();
                assertThat(app.log()).as("Kafka Streams closed").contains("streams app closed: Kafka Streams NOT_RUNNING");
            }
        }
    }

    /** Until /health/ready answers 200: Kafka Streams is RUNNING. */
    static void awaitReady(ChildJvm app, int port, Duration timeout) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            assertThat(app.isAlive()).as("the app is running; log:%n%s", app.log()).isTrue();
            try {
                HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (ready.statusCode() == 200) {
                    return;
                }
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        throw new AssertionError("not ready within " + timeout + "; log:\n" + app.log());
    }
}
