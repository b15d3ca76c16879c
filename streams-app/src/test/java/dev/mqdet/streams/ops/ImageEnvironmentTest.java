package dev.mqdet.streams.ops;

import dev.mqdet.streams.TestPipelines;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.Exemplar;
import dev.mqdet.inference.eval.EvalSet;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.client.PipelineClient;
import dev.mqdet.streams.StreamsAppConfig;
import dev.mqdet.testkit.ApicurioRegistry;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import dev.mqdet.topics.Topics;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compose stack's two images without Docker: the streams app (docker/streams-app.Dockerfile, stage cpu) and the
 * exemplar registry (docker/exemplar-registry.Dockerfile) run as processes with exactly their final stages' ENV and
 * the compose services' environment, a home folder they cannot write, and only the folders the Dockerfile hands
 * to the user writable ({@link ImageRuntime}), against the test kit's real broker and registry. The streams app
 * runs the image's own build step first (EngineWarmUp), unpacks the shipped model where the image tells it to,
 * reaches ready, and answers an image event for a category created through the registry's HTTP API.
 */
@ExtendWith(LocalStackExtension.class)
class ImageEnvironmentTest {

    private static final Path ROOT = ComposeFile.repoRoot();
    private static final String TOKEN = "image-environment-token-0123";
    private static final Duration READY = Duration.ofSeconds(90);

    @Test
    void theImagesStartWithTheirOwnEnvironmentAndDetectAnImage(LocalStack stack, @TempDir Path temp) throws Exception {
        ComposeFile compose = ComposeFile.load(ROOT.resolve("docker-compose.yml"));
        Dockerfile.Stage streamsStage = Dockerfile.load(ROOT.resolve("docker/streams-app.Dockerfile"))
                .stage(String.valueOf(compose.build("streams-app-cpu").get("target")));
        Dockerfile.Stage registryStage = Dockerfile.load(ROOT.resolve("docker/exemplar-registry.Dockerfile")).last();
        SyntheticWorld world = SyntheticWorld.load(ROOT.resolve("models/synth-eval"));
        EvalSet.Category category = world.categories(List.of(92)).get(0); // green dotted diamond
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "image-env-");
                ImageRuntime streams = ImageRuntime.prepare(streamsStage, Files.createDirectories(temp.resolve("streams-fs")), "streams-app");
                ImageRuntime registry = ImageRuntime.prepare(registryStage, Files.createDirectories(temp.resolve("registry-fs")), "exemplar-registry")) {
            client.createTopics(1);
            Map<String, String> variables = Map.of("MQDET_BOOTSTRAP_SERVERS", stack.bootstrapServers(),
                    "MQDET_SCHEMA_REGISTRY_URL", stack.schemaRegistryUrl(), "MQDET_REGISTRY_TOKEN", TOKEN,
                    "MQDET_APPLICATION_ID", "image-env", "MQDET_DETECT_SCORE_THRESHOLD", SyntheticWorld.SHOWCASE_THRESHOLD);

            int registryPort = ApicurioRegistry.freePort();
            Map<String, String> registryService = new HashMap<>(compose.environment("exemplar-registry", variables));
            registryService.putAll(Map.of("MQDET_REGISTRY_PORT", Integer.toString(registryPort),
                    "MQDET_REGISTRY_TOPIC", client.topic(Topics.EXEMPLAR_QUERIES),
                    "MQDET_REGISTRY_IMAGES_TOPIC", client.topic(Topics.IMAGES),
                    "MQDET_REGISTRY_DETECTIONS_TOPIC", client.topic(Topics.DETECTIONS),
                    "MQDET_REGISTRY_TRANSACTIONAL_ID", "image-env-registry"));
            Path registryLog = temp.resolve("registry.log");
            Process registryProcess = registry.start(registry.entrypoint(), registry.environment(registryService), registryLog);

            int httpPort = ApicurioRegistry.freePort();
            Map<String, String> streamsService = new HashMap<>(compose.environment("streams-app-cpu", variables));
            streamsService.put("MQDET_HTTP_PORT", Integer.toString(httpPort));
            streamsService.put("KAFKA_COMMIT_INTERVAL_MS", "100");
            StreamsAppConfig.topicNames(client.topicPrefix()).forEach((key, topic) -> streamsService.put(envName(key), topic));
            Map<String, String> streamsEnv = streams.environment(streamsService);
            assertThat(streamsEnv).as("the image's own settings reach the process")
                    .containsEntry("MQDET_MODEL_DEVICE", "cpu").containsEntry("MQDET_MODEL_DIR", "");
            // The image's build step, as its USER with its ENV: extracts libtorch into DJL_CACHE_DIR.
            String warmUp = streamsStage.runs().stream().filter(run -> run.startsWith("java ")).findFirst().orElseThrow();
            streams.run(streams.runStep(warmUp), streamsEnv, temp.resolve("warm-up.log"));
            Path streamsLog = temp.resolve("streams.log");
            Process streamsProcess = streams.start(streams.entrypoint(), streamsEnv, streamsLog);

            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            awaitOk(http, "http://127.0.0.1:" + registryPort + "/health", registryProcess, registryLog);
            awaitOk(http, "http://127.0.0.1:" + httpPort + "/health/ready", streamsProcess, streamsLog);

            List<Map<String, Object>> exemplars = world.exemplars(category, 2).stream().map(TestPipelines::exemplarJson).toList();
            String body = new ObjectMapper().writeValueAsString(Map.of("label", category.name(), "exemplars", exemplars));
            HttpResponse<String> created = http.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + registryPort + "/api/query-sets/image-env/categories/diamond"))
                    .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(created.statusCode()).as(created.body()).isBetween(200, 201);
            client.read(Topics.EXEMPLAR_EMBEDDINGS, r -> r.stream().anyMatch(e -> e.key().endsWith("/image-env/diamond")), Duration.ofMinutes(1));

            client.publish(world.imageEvent("image-env-1", sceneWith(world, category), "image-env"));
            client.flush();
            List<ConsumerRecord<String, DetectionEvent>> out = client.detections(
                    r -> r.stream().anyMatch(e -> e.key().equals("image-env-1")), Duration.ofMinutes(1));
            DetectionEvent event = out.stream().filter(e -> e.key().equals("image-env-1")).findFirst().orElseThrow().value();
            assertThat(event.getDetections()).as(ImageRuntime.tail(streamsLog)).extracting(d -> d.getCategoryId()).contains("diamond");

            // What the image's folders hold now: the model and the state where the ENV points, nothing in the home.
            Path modelCache = Path.of(streamsEnv.get("MQDET_MODEL_CACHE"));
            try (Stream<Path> unpacked = Files.list(modelCache)) {
                assertThat(unpacked.map(p -> p.getFileName().toString())).anyMatch(name -> name.startsWith("mqdet-synth-v1-"));
            }
            assertThat(Path.of(streamsEnv.get("KAFKA_STATE_DIR")).resolve("image-env")).isDirectory();
            try (Stream<Path> home = Files.list(Path.of(streamsEnv.get("HOME")))) {
                assertThat(home.map(p -> p.getFileName().toString())).as("the home holds what the image put there, nothing more")
                        .containsExactlyInAnyOrder("djl-cache", "lib", "lib-cpu", "tools");
            }
            assertThat(Files.readString(streamsLog)).contains("model device cpu(): mqdet.model.device=cpu");
            assertThat(streamsProcess.isAlive()).isTrue();
            assertThat(registryProcess.isAlive()).isTrue();
        }
    }

    /**
     * The control: the same home and folders do refuse writes (else the test above proves nothing). As root the
     * processes run as the image's uid; as any other user the folders' modes refuse it.
     */
    @Test
    void theHomeFolderIsNotWritableToTheImagesUser(@TempDir Path temp) throws Exception {
        Dockerfile.Stage stage = Dockerfile.load(ROOT.resolve("docker/streams-app.Dockerfile")).stage("cpu");
        try (ImageRuntime runtime = ImageRuntime.prepare(stage, Files.createDirectories(temp.resolve("fs")), "streams-app")) {
            Map<String, String> env = runtime.environment(Map.of());
            String home = env.get("HOME");
            String owned = env.get("KAFKA_STATE_DIR");
            Path log = temp.resolve("touch.log");
            Process refused = runtime.start(List.of("/bin/sh", "-c", "mkdir \"$HOME/.cache\""), env, log);
            assertThat(refused.waitFor()).as("mkdir in %s: %s", home, ImageRuntime.tail(log)).isNotZero();
            Process allowed = runtime.start(List.of("/bin/sh", "-c", "mkdir \"$KAFKA_STATE_DIR/probe\""), env, log);
            assertThat(allowed.waitFor()).as("mkdir in %s: %s", owned, ImageRuntime.tail(log)).isZero();
        }
    }

    private static void awaitOk(HttpClient http, String url, Process process, Path log) throws Exception {
        long deadline = System.nanoTime() + READY.toNanos();
        while (true) {
            assertThat(process.isAlive()).as("%s exited (%s) before %s answered:\n%s", process.pid(),
                    process.isAlive() ? "" : process.exitValue(), url, ImageRuntime.tail(log)).isTrue();
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            assertThat(System.nanoTime()).as("%s within %s:\n%s", url, READY, ImageRuntime.tail(log)).isLessThan(deadline);
            Thread.sleep(250);
        }
    }

    /** The variable that sets an app key, the way compose would pass it (StreamsAppConfig reads MQDET_/KAFKA_ names). */
    private static String envName(String key) {
        String upper = key.toUpperCase(java.util.Locale.ROOT).replace('.', '_').replace('-', '_');
        return key.startsWith("mqdet.") ? upper : "KAFKA_" + upper;
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
