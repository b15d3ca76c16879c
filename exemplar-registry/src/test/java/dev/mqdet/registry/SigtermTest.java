package dev.mqdet.registry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.testkit.ApicurioRegistry;
import dev.mqdet.testkit.ChildJvm;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./mqdet registry serve} as a real process: SIGTERM stops the HTTP server and its Kafka readers within 30 s. */
@ExtendWith(LocalStackExtension.class)
class SigtermTest {

    @Test
    void sigtermStopsTheServiceWithin30Seconds(LocalStack stack, @TempDir Path dir) throws Exception {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        int port = ApicurioRegistry.freePort();
        Map<String, String> environment = Map.of(
                "MQDET_BOOTSTRAP_SERVERS", stack.bootstrapServers(),
                "MQDET_SCHEMA_REGISTRY_URL", stack.schemaRegistryUrl(),
                "MQDET_REGISTRY_TOKEN", RegistryHarness.TOKEN,
                "MQDET_REGISTRY_TOPIC", "exemplar-queries-" + suffix,
                "MQDET_REGISTRY_TRANSACTIONAL_ID", "registry-sigterm-" + suffix,
                "MQDET_REGISTRY_DETECTIONS_TOPIC", "detections-" + suffix,
                "MQDET_REGISTRY_IMAGES_TOPIC", "images-" + suffix,
                "MQDET_REGISTRY_LIVE_ENABLED", "true");
        try (ChildJvm registry = ChildJvm.start(RegistryMain.class.getName(), List.of("serve", "--port", Integer.toString(port)),
                environment, dir.resolve("registry.log"))) {
            awaitHealthy(registry, port, Duration.ofMinutes(2));

            Duration took = registry.terminate(Duration.ofSeconds(30));

            assertThat(took).as("exited within 30 s of SIGTERM; log:%n%s", registry.log()).isNotNull();
            assertThat(registry.descendants()).isEmpty();
            assertThat(ChildJvm.listening(port)).as("the HTTP server stopped").isFalse();
        }
    }

    private static void awaitHealthy(ChildJvm registry, int port, Duration timeout) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            assertThat(registry.isAlive()).as("the registry is running; log:%n%s", registry.log()).isTrue();
            try {
                HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (health.statusCode() == 200) {
                    return;
                }
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        throw new AssertionError("not healthy within " + timeout + "; log:\n" + registry.log());
    }
}
