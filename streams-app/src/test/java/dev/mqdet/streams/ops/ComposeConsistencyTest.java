package dev.mqdet.streams.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.registry.config.RegistryConfig;
import dev.mqdet.streams.StreamsAppConfig;
import dev.mqdet.topics.Topic;
import dev.mqdet.topics.Topics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker-compose.yml (and its SASL_SSL override) against the application's own configuration: every environment
 * variable given to the streams app or the registry is one they read, the topics the initialiser creates are the
 * pipeline's topics with the settings {@link Topic#topicConfig()} asks for, ports and healthchecks are the
 * defaults, the compose defaults equal the app's defaults, and the images are built for the libtorch and Kafka
 * versions of this build. Runs without Docker.
 */
class ComposeConsistencyTest {

    private static final Path ROOT = ComposeFile.repoRoot();
    private static final ComposeFile COMPOSE = ComposeFile.load(ROOT.resolve("docker-compose.yml"));
    private static final ComposeFile EXTERNAL = ComposeFile.load(ROOT.resolve("docker/compose.external-kafka.yml"));
    private static final List<String> STREAMS_SERVICES = List.of("streams-app", "streams-app-cpu");
    /** Variables for the JVM itself, not configuration keys. */
    private static final Set<String> JVM_VARIABLES = Set.of("JAVA_TOOL_OPTIONS");
    /** The registry reads its properties file from this variable (serve --config). */
    private static final String REGISTRY_CONFIG_VARIABLE = "MQDET_REGISTRY_CONFIG";
    /** Compose variables the files require; any value will do for interpolation. */
    private static final Map<String, String> REQUIRED = Map.of("MQDET_REGISTRY_TOKEN", "0123456789abcdef-token");

    @Test
    void everyStreamsAppVariableSetsAKeyTheAppKnows() {
        Set<String> kafkaKeys = new HashSet<>(StreamsConfig.configDef().names());
        kafkaKeys.addAll(ProducerConfig.configNames());
        kafkaKeys.addAll(ConsumerConfig.configNames());
        kafkaKeys.addAll(AdminClientConfig.configNames());
        for (ComposeFile file : List.of(COMPOSE, EXTERNAL)) {
            for (String service : STREAMS_SERVICES) {
                for (String variable : file.rawEnvironment(service).keySet()) {
                    if (JVM_VARIABLES.contains(variable)) {
                        continue;
                    }
                    String key = keyOf(variable);
                    assertThat(key).as("%s: %s of %s sets no configuration key", file.file().getFileName(), variable, service).isNotNull();
                    if (variable.equals("MQDET_BOOTSTRAP_SERVERS") || variable.equals("MQDET_SCHEMA_REGISTRY_URL")) {
                        assertThat(key).isIn("bootstrap.servers", "schema.registry.url");
                    } else if (variable.startsWith("MQDET_")) {
                        assertThat(StreamsAppConfig.DEFAULTS).as("%s of %s", variable, service).containsKey(key);
                    } else {
                        assertThat(kafkaKeys.contains(key) || key.startsWith("schema.registry.") || key.startsWith("basic.auth."))
                                .as("%s of %s sets %s, which is no Kafka Streams, client or serde setting", variable, service, key).isTrue();
                    }
                }
            }
        }
    }

    @Test
    void composeDefaultsAreTheAppDefaultsAndParse() {
        for (String service : STREAMS_SERVICES) {
            Map<String, String> environment = COMPOSE.environment(service, Map.of());
            StreamsAppConfig config = StreamsAppConfig.load(null, environment, Map.of());
            // The values the app parses as numbers do parse.
            for (String key : List.of(StreamsAppConfig.MODEL_PREDICTORS, StreamsAppConfig.BATCH_SIZE, StreamsAppConfig.HTTP_PORT,
                    StreamsAppConfig.UNKNOWN_QUERY_SET_WAIT_MS)) {
                config.getLong(key);
            }
            config.getFloat(StreamsAppConfig.SCORE_THRESHOLD);
            Map<String, String> compose = new HashMap<>();
            environment.forEach((variable, value) -> {
                String key = keyOf(variable);
                if (key != null) {
                    compose.put(key, value);
                }
            });
            // Every key the compose file sets to a default has the app's default, except the device, which the file
            // chooses per variant, and the state folder, which the image provides.
            compose.forEach((key, value) -> {
                if (StreamsAppConfig.DEFAULTS.containsKey(key) && !key.equals(StreamsAppConfig.MODEL_DEVICE)) {
                    assertThat(value).as("%s: default of %s", service, key).isEqualTo(StreamsAppConfig.DEFAULTS.get(key));
                }
            });
            assertThat(compose.get(StreamsAppConfig.MODEL_DEVICE)).isEqualTo(service.equals("streams-app") ? "gpu" : "cpu");
            assertThat(compose.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG)).isEqualTo(StreamsConfig.EXACTLY_ONCE_V2);
            assertThat(compose).containsEntry("bootstrap.servers", "kafka:9092").containsEntry("schema.registry.url", "http://schema-registry:8081");
        }
        // A variable set in the shell or .env overrides the default.
        assertThat(COMPOSE.environment("streams-app", Map.of("MQDET_BATCH_SIZE", "16"))).containsEntry("MQDET_BATCH_SIZE", "16");
    }

    @Test
    void theInitialiserCreatesEveryPipelineTopicWithItsSettings() {
        Map<String, TopicLine> created = topicLines(Map.of());
        assertThat(created.keySet()).as("topics of topics-init")
                .containsExactlyInAnyOrderElementsOf(Topics.ALL.stream().map(Topic::defaultName).toList());
        for (Topic<?> topic : Topics.ALL) {
            TopicLine line = created.get(topic.defaultName());
            assertThat(line.configs()).as(topic.defaultName()).containsAllEntriesOf(topic.topicConfig());
            assertThat(line.configs().get("cleanup.policy")).isEqualTo(topic.compacted() ? "compact" : "delete");
            assertThat(line.partitions()).as("partitions of %s", topic.defaultName()).isPositive();
            assertThat(line.configs()).as("retention of %s, set explicitly", topic.defaultName()).containsKey("retention.ms");
            Long.parseLong(line.configs().get("retention.ms"));
        }
        // Partitions and retention come from the environment.
        Map<String, TopicLine> scaled = topicLines(Map.of("MQDET_IMAGE_PARTITIONS", "24", "MQDET_IMAGES_RETENTION_MS", "3600000"));
        assertThat(scaled.get("images").partitions()).isEqualTo(24);
        assertThat(scaled.get("detections").partitions()).isEqualTo(24);
        assertThat(scaled.get("images").configs()).containsEntry("retention.ms", "3600000");
        // The broker takes records as large as the topics do.
        Map<String, String> kafka = COMPOSE.environment("kafka", Map.of());
        assertThat(Integer.parseInt(kafka.get("KAFKA_MESSAGE_MAX_BYTES"))).isGreaterThanOrEqualTo(Topic.MAX_MESSAGE_BYTES);
        assertThat(Integer.parseInt(kafka.get("KAFKA_REPLICA_FETCH_MAX_BYTES"))).isGreaterThanOrEqualTo(Topic.MAX_MESSAGE_BYTES);
        assertThat(kafka.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE")).isEqualTo("false");
        // The script the service runs is the one in docker/.
        assertThat(String.valueOf(COMPOSE.service("topics-init").get("volumes"))).contains("./docker/init-topics.sh:/opt/mqdet/init-topics.sh");
        assertThat(ROOT.resolve("docker/init-topics.sh")).exists();
    }

    @Test
    void theAppsAndTheRegistrysTopicNamesAreTheCreatedTopics() {
        Set<String> created = topicLines(Map.of()).keySet();
        for (String service : STREAMS_SERVICES) {
            StreamsAppConfig config = StreamsAppConfig.load(null, COMPOSE.environment(service, Map.of()), Map.of());
            for (String key : StreamsAppConfig.DEFAULTS.keySet()) {
                if (key.startsWith("mqdet.topic.")) {
                    assertThat(config.get(key)).as("%s of %s", key, service).isIn(created);
                }
            }
        }
        RegistryConfig registry = RegistryConfig.fromSources(Optional.empty(), COMPOSE.environment("exemplar-registry", REQUIRED));
        assertThat(registry.get("registry.topic")).isEqualTo(Topics.EXEMPLAR_QUERIES.defaultName());
        assertThat(registry.get("registry.images.topic")).isEqualTo(Topics.IMAGES.defaultName());
        assertThat(registry.get("registry.detections.topic")).isEqualTo(Topics.DETECTIONS.defaultName());
        assertThat(registry.getBoolean("registry.topic.create")).as("topics-init creates the topic").isFalse();
    }

    @Test
    void everyRegistryVariableSetsOneOfItsKeys() {
        Set<String> known = RegistryConfig.DEFAULTS.keySet().stream().map(RegistryConfig::envName).collect(Collectors.toSet());
        for (ComposeFile file : List.of(COMPOSE, EXTERNAL)) {
            for (String variable : file.rawEnvironment("exemplar-registry").keySet()) {
                assertThat(known.contains(variable) || JVM_VARIABLES.contains(variable) || variable.equals(REGISTRY_CONFIG_VARIABLE))
                        .as("%s: %s of exemplar-registry is no registry setting", file.file().getFileName(), variable).isTrue();
            }
        }
        RegistryConfig registry = RegistryConfig.fromSources(Optional.empty(), COMPOSE.environment("exemplar-registry", REQUIRED));
        assertThat(registry.get("registry.host")).as("listens on every interface in a container").isEqualTo("0.0.0.0");
        assertThat(registry.get("bootstrap.servers")).isEqualTo("kafka:9092");
        assertThat(registry.get("schema.registry.url")).isEqualTo("http://schema-registry:8081");
        assertThat(registry.get("registry.token")).isEqualTo(REQUIRED.get("MQDET_REGISTRY_TOKEN"));
        // Without a token the file is refused, as Compose refuses it.
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> COMPOSE.environment("exemplar-registry", Map.of()))
                .hasMessageContaining("MQDET_REGISTRY_TOKEN");
    }

    @Test
    void portsAndHealthchecksAreTheDefaults() {
        String streamsPort = StreamsAppConfig.DEFAULTS.get(StreamsAppConfig.HTTP_PORT);
        assertThat(streamsPort).isEqualTo("8080");
        for (String service : STREAMS_SERVICES) {
            assertThat(COMPOSE.environment(service, Map.of())).containsEntry("MQDET_HTTP_PORT", streamsPort);
            assertThat(COMPOSE.containerPorts(service)).containsExactly(Integer.parseInt(streamsPort));
            assertThat(COMPOSE.healthcheck(service)).contains("http://localhost:" + streamsPort + "/health/ready");
        }
        String registryPort = RegistryConfig.DEFAULTS.get("registry.port");
        assertThat(registryPort).isEqualTo("8088");
        RegistryConfig registry = RegistryConfig.fromSources(Optional.empty(), COMPOSE.environment("exemplar-registry", REQUIRED));
        assertThat(registry.get("registry.port")).isEqualTo(registryPort);
        assertThat(COMPOSE.containerPorts("exemplar-registry")).containsExactly(Integer.parseInt(registryPort));
        assertThat(COMPOSE.healthcheck("exemplar-registry")).contains("http://localhost:" + registryPort + "/health");
        // Kafka's internal listener and the Schema Registry's port are the addresses the services are given.
        assertThat(COMPOSE.environment("kafka", Map.of()).get("KAFKA_LISTENERS")).contains("PLAINTEXT://:9092");
        assertThat(COMPOSE.environment("schema-registry", Map.of()).get("SCHEMA_REGISTRY_LISTENERS")).isEqualTo("http://0.0.0.0:8081");
        assertThat(COMPOSE.healthcheck("schema-registry")).contains("/dev/tcp/localhost/8081").contains("GET /subjects ");
        assertThat(COMPOSE.healthcheck("kafka")).contains("localhost:9092");
        // Dockerfiles: the same ports, health endpoints and main classes.
        String streamsDockerfile = read("docker/streams-app.Dockerfile");
        assertThat(streamsDockerfile).contains("EXPOSE " + streamsPort).contains("http://localhost:" + streamsPort + "/health/ready")
                .contains("\"" + dev.mqdet.streams.StreamsMain.class.getName() + "\"");
        String registryDockerfile = read("docker/exemplar-registry.Dockerfile");
        assertThat(registryDockerfile).contains("EXPOSE " + registryPort).contains("MQDET_REGISTRY_HOST=0.0.0.0")
                .contains("\"" + dev.mqdet.registry.RegistryMain.class.getName() + "\"");
    }

    @Test
    void theImagesAreBuiltForThisBuildsKafkaAndLibtorch() {
        String pom = read("pom.xml");
        String kafkaVersion = property(pom, "kafka.version");
        assertThat(COMPOSE.value("kafka", "image", Map.of())).isEqualTo("apache/kafka:" + kafkaVersion);
        assertThat(COMPOSE.value("topics-init", "image", Map.of())).isEqualTo("apache/kafka:" + kafkaVersion);
        // The GPU image points DJL at a libtorch of the version its JNI is built for, in a flavour the JNI jar has.
        String dockerfile = read("docker/streams-app.Dockerfile");
        String torchVersion = property(pom, "djl.pytorch.version");
        assertThat(dockerfile).contains("PYTORCH_VERSION=" + torchVersion).contains("pytorch/pytorch:" + torchVersion + "-cuda");
        Matcher flavor = Pattern.compile("PYTORCH_FLAVOR=(\\S+)").matcher(dockerfile);
        assertThat(flavor.find()).isTrue();
        String jni = "/jnilib/linux-x86_64/" + flavor.group(1) + "/libdjl_torch.so";
        assertThat(ai.djl.pytorch.jni.LibUtils.class.getResource(jni)).as("pytorch-jni has %s", jni).isNotNull();
        Matcher cuda = Pattern.compile("pytorch/pytorch:[0-9.]+-cuda(\\d+)\\.(\\d+)-").matcher(dockerfile);
        assertThat(cuda.find()).isTrue();
        assertThat(flavor.group(1)).as("CUDA of the base image").isEqualTo("cu" + cuda.group(1) + cuda.group(2));
        assertThat(dockerfile).contains("ENV PYTORCH_LIBRARY_PATH=").contains("ai.djl.offline=true");
    }

    @Test
    void theToolsTheImagesCompileDoCompile(@TempDir Path out) throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        List<String> sources;
        try (Stream<Path> files = Stream.concat(Files.list(ROOT.resolve("docker/tools")), Files.list(ROOT.resolve("docker/demo-producer")))) {
            sources = files.filter(p -> p.toString().endsWith(".java")).map(Path::toString).toList();
        }
        assertThat(sources).hasSize(2);
        java.io.ByteArrayOutputStream errors = new java.io.ByteArrayOutputStream();
        List<String> args = new java.util.ArrayList<>(List.of("-d", out.toString(), "-cp", System.getProperty("java.class.path")));
        args.addAll(sources);
        int status = javac.run(null, errors, errors, args.toArray(String[]::new));
        assertThat(status).as("javac: %s", errors).isZero();
        assertThat(out.resolve("EngineWarmUp.class")).exists();
        assertThat(out.resolve("DemoProducer.class")).exists();
    }

    /** The key an environment variable sets, by the app's own rule (public API): null when none. */
    private static String keyOf(String variable) {
        return StreamsAppConfig.keyOf(variable);
    }

    record TopicLine(String name, int partitions, Map<String, String> configs) {}

    private static Map<String, TopicLine> topicLines(Map<String, String> variables) {
        Map<String, TopicLine> lines = new LinkedHashMap<>();
        for (String line : COMPOSE.environment("topics-init", variables).get("TOPICS").split("\n")) {
            if (line.isBlank() || line.trim().startsWith("#")) {
                continue;
            }
            String[] parts = line.trim().split("\\s+");
            assertThat(parts).as("TOPICS line '%s': name partitions configs", line).hasSize(3);
            Map<String, String> configs = new LinkedHashMap<>();
            for (String config : parts[2].split(",")) {
                int eq = config.indexOf('=');
                configs.put(config.substring(0, eq), config.substring(eq + 1));
            }
            assertThat(lines.put(parts[0], new TopicLine(parts[0], Integer.parseInt(parts[1]), configs))).as("%s twice", parts[0]).isNull();
        }
        return lines;
    }

    private static String property(String pom, String name) {
        Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(pom);
        assertThat(m.find()).as("property %s in pom.xml", name).isTrue();
        return m.group(1).trim();
    }

    private static String read(String relative) {
        try {
            return Files.readString(ROOT.resolve(relative));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
