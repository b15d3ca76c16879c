package dev.mqdet.streams.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.inference.ModelPackage;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.Scoring;
import dev.mqdet.streams.scenario.DetectScenario;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.output.Slf4jLogConsumer;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.MountableFile;

/**
 * The compose stack's services as containers, running the same scenario as the embedded end-to-end test
 * ({@link DetectScenario}: register a query set, send image events, read one detection event each, precision and
 * recall at least 0.8). Images, environment and the topic initialiser come from docker-compose.yml itself: Kafka
 * (apache/kafka, KRaft), Confluent Schema Registry, topics-init (docker/init-topics.sh with the file's TOPICS) and
 * the streams app built from docker/streams-app.Dockerfile (target cpu) with the streams-app-cpu environment.
 *
 * <p>Needs a Docker engine (and network access for the image build); where none answers, JUnit reports the test
 * as skipped, not passed ({@code disabledWithoutDocker}).
 */
@Testcontainers(disabledWithoutDocker = true)
class ContainerPipelineTest {

    private static final Path ROOT = ComposeFile.repoRoot();
    /** What the image build needs from the checkout; build outputs and the Python side stay out. */
    private static final Set<String> LEFT_OUT = Set.of("target", ".git", "training", "demo-out", ".mqdet", "node_modules", ".idea", "secrets");
    private static final String KAFKA_IN_NETWORK = "kafka:19092";

    @Test
    void theComposeServicesDetectTheRegisteredCategoriesInImageEvents(@TempDir Path context) throws Exception {
        ComposeFile compose = ComposeFile.load(ROOT.resolve("docker-compose.yml"));
        Map<String, String> variables = Map.of("MQDET_BOOTSTRAP_SERVERS", KAFKA_IN_NETWORK);
        String kafkaImage = compose.value("kafka", "image", Map.of());
        Map<String, String> broker = compose.environment("kafka", Map.of());

        try (Network network = Network.newNetwork();
                KafkaContainer kafka = new KafkaContainer(kafkaImage)
                        .withNetwork(network).withNetworkAliases("kafka").withListener(KAFKA_IN_NETWORK)
                        .withEnv("KAFKA_MESSAGE_MAX_BYTES", broker.get("KAFKA_MESSAGE_MAX_BYTES"))
                        .withEnv("KAFKA_REPLICA_FETCH_MAX_BYTES", broker.get("KAFKA_REPLICA_FETCH_MAX_BYTES"))
                        .withEnv("KAFKA_AUTO_CREATE_TOPICS_ENABLE", broker.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE"));
                GenericContainer<?> schemaRegistry = new GenericContainer<>(compose.value("schema-registry", "image", Map.of()))
                        .withNetwork(network).withNetworkAliases("schema-registry")
                        .withEnv(withValue(compose.environment("schema-registry", Map.of()),
                                "SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS", "PLAINTEXT://" + KAFKA_IN_NETWORK))
                        .withExposedPorts(8081)
                        .waitingFor(Wait.forHttp("/subjects").forStatusCode(200)).withStartupTimeout(Duration.ofMinutes(3));
                GenericContainer<?> topicsInit = new GenericContainer<>(kafkaImage)
                        .withNetwork(network)
                        .withCopyFileToContainer(MountableFile.forHostPath(ROOT.resolve("docker/init-topics.sh")), "/opt/mqdet/init-topics.sh")
                        .withEnv(compose.environment("topics-init", variables))
                        .withEnv("BOOTSTRAP_SERVERS", KAFKA_IN_NETWORK)
                        .withCreateContainerCmdModifier(cmd -> cmd.withEntrypoint("/bin/sh", "/opt/mqdet/init-topics.sh"))
                        .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofMinutes(3)));
                GenericContainer<?> streamsApp = new GenericContainer<>(streamsAppImage(context))
                        .withNetwork(network)
                        .withEnv(compose.environment("streams-app-cpu", variables))
                        .withEnv("KAFKA_COMMIT_INTERVAL_MS", "100")
                        .withExposedPorts(8080)
                        .waitingFor(Wait.forHttp("/health/ready").forStatusCode(200)).withStartupTimeout(Duration.ofMinutes(5))
                        .withLogConsumer(new Slf4jLogConsumer(LoggerFactory.getLogger("streams-app-container")))) {
            kafka.start();
            schemaRegistry.start();
            topicsInit.start(); // fails unless the script exits 0
            streamsApp.start();

            String registryUrl = "http://" + schemaRegistry.getHost() + ":" + schemaRegistry.getMappedPort(8081);
            try (PipelineClient client = new PipelineClient(kafka.getBootstrapServers(), registryUrl)) {
                SyntheticWorld world = SyntheticWorld.load(ROOT.resolve("models/synth-eval"));
                // The image runs the model package shipped in the jar; this build's copy has the same id.
                String modelId = ModelPackage.shipped().modelId();
                Scoring scoring = new DetectScenario(world, client, modelId, Duration.ofMinutes(3)).run(12);
                assertThat(scoring.recall()).isGreaterThanOrEqualTo(0.8);
            }
            // The image's health and metrics endpoints answer on the compose file's port.
            assertThat(streamsApp.getExposedPorts()).containsExactly(8080);
        }
    }

    /** The streams app's CPU image, built by Docker from a copy of the checkout without build outputs. */
    private static ImageFromDockerfile streamsAppImage(Path context) throws IOException {
        try (Stream<Path> files = Files.walk(ROOT)) {
            files.filter(p -> ROOT.relativize(p).getNameCount() > 0 && Files.isRegularFile(p))
                    .filter(p -> { // skip anything under a left-out folder
                        for (Path part : ROOT.relativize(p)) {
                            if (LEFT_OUT.contains(part.toString())) {
                                return false;
                            }
                        }
                        return true;
                    })
                    .forEach(p -> copy(p, context.resolve(ROOT.relativize(p).toString())));
        }
        return new ImageFromDockerfile("mqdet/streams-app:container-test-cpu", false)
                .withFileFromPath(".", context)
                .withDockerfilePath("docker/streams-app.Dockerfile")
                .withTarget("cpu");
    }

    private static void copy(Path from, Path to) {
        try {
            Files.createDirectories(to.getParent());
            Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, String> withValue(Map<String, String> environment, String name, String value) {
        Map<String, String> out = new HashMap<>(environment);
        out.put(name, value);
        return out;
    }
}
