package dev.mqdet.streams.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.mqdet.inference.DeviceRule;
import dev.mqdet.inference.InferenceException.DeviceUnavailableException;
import dev.mqdet.inference.ModelPackage;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.ToolProvider;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What makes or breaks the compose stack's first {@code docker compose up}, checked without a Docker engine from
 * docker-compose.yml and the Dockerfiles as the builder reads them: image tags, health check tools, the KRaft
 * cluster id, SELinux labels of bind mounts, the folders the runtime user may write, the GPU image's build steps
 * and its device choice. The images' runtime environment itself is run by {@link ImageEnvironmentTest}.
 */
class ComposeFirstStartTest {

    private static final Path ROOT = ComposeFile.repoRoot();
    private static final ComposeFile COMPOSE = ComposeFile.load(ROOT.resolve("docker-compose.yml"));
    private static final ComposeFile EXTERNAL = ComposeFile.load(ROOT.resolve("docker/compose.external-kafka.yml"));
    private static final Dockerfile STREAMS = Dockerfile.load(ROOT.resolve("docker/streams-app.Dockerfile"));
    private static final Map<String, String> REQUIRED = Map.of("MQDET_REGISTRY_TOKEN", "0123456789abcdef-token");
    /** Variables naming every folder the streams app writes: DJL's native cache, the unpacked model, Kafka Streams' state. */
    static final List<String> STREAMS_WRITE_VARIABLES = List.of("DJL_CACHE_DIR", ModelPackage.CACHE_VARIABLE,
            "KAFKA_" + StreamsConfig.STATE_DIR_CONFIG.toUpperCase(Locale.ROOT).replace('.', '_'));
    /**
     * The tools each pulled image is documented to have. apache/kafka: Kafka's scripts under /opt/kafka/bin and a
     * POSIX sh (its README). cp-schema-registry: bash, which runs its own entry point (/etc/confluent/docker/run);
     * its base, UBI minimal (confluentinc/common-docker base/Dockerfile.ubi9), installs no curl.
     */
    private static final Map<String, Set<String>> PULLED_IMAGE_TOOLS = Map.of(
            "apache/kafka", Set.of("/bin/sh", "/opt/kafka/bin/kafka-broker-api-versions.sh"),
            "confluentinc/cp-schema-registry", Set.of("bash"));

    @Test
    void noTwoServicesThatBuildShareAnImageTag() {
        Map<String, String> built = new HashMap<>();
        for (String service : COMPOSE.services().keySet()) {
            if (COMPOSE.build(service) == null) {
                continue;
            }
            String image = COMPOSE.value(service, "image", REQUIRED);
            String before = built.put(image, service);
            assertThat(before).as("%s and %s both build %s: parallel builds fail with \"image already exists\"", before, service, image).isNull();
        }
        assertThat(built).hasSizeGreaterThanOrEqualTo(4);
    }

    @Test
    void everyHealthCheckUsesAToolItsImageHas() {
        for (String service : COMPOSE.services().keySet()) {
            if (!COMPOSE.service(service).containsKey("healthcheck")) {
                continue;
            }
            List<String> test = COMPOSE.healthcheckTest(service);
            List<String> tools = new ArrayList<>();
            if (test.get(0).equals("CMD-SHELL")) {
                tools.add("/bin/sh");
                tools.add(test.get(1).trim().split("\\s+")[0]);
            } else {
                assertThat(test.get(0)).as("%s: healthcheck form", service).isEqualTo("CMD");
                tools.add(test.get(1));
            }
            assertThat(toolsOf(service)).as("tools of the image of %s", service).containsAll(tools);
        }
        // The images' own HEALTHCHECK lines, for `docker run` without compose.
        for (Dockerfile.Stage stage : List.of(STREAMS.stage("cpu"), STREAMS.stage("gpu"),
                Dockerfile.load(ROOT.resolve("docker/exemplar-registry.Dockerfile")).last())) {
            String tool = stage.healthcheck().orElseThrow().split("\\s+")[0];
            assertThat(stage.aptPackages()).as("HEALTHCHECK of stage %s uses %s", stage.name(), tool).contains(tool);
        }
        assertThat(STREAMS.stage("demo").healthcheck()).as("the demo producer serves no health endpoint").isEmpty();
    }

    /** The registry's check runs with bash and an empty PATH: any external tool in it would fail here. */
    @Test
    void theSchemaRegistryHealthCheckNeedsNothingButBash() throws Exception {
        List<String> test = COMPOSE.healthcheckTest("schema-registry");
        assertThat(test.subList(0, 3)).containsExactly("CMD", "bash", "-c");
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        int[] status = {200};
        server.createContext("/subjects", exchange -> {
            exchange.sendResponseHeaders(status[0], 2);
            exchange.getResponseBody().write("[]".getBytes());
            exchange.close();
        });
        server.start();
        try {
            String command = test.get(3).replace("localhost/8081", "127.0.0.1/" + server.getAddress().getPort());
            assertThat(command).as("the check names the registry's port").isNotEqualTo(test.get(3));
            assertThat(runBash(command)).as("registry answers 200").isZero();
            status[0] = 503;
            assertThat(runBash(command)).as("registry answers 503").isNotZero();
        } finally {
            server.stop(0);
        }
        assertThat(runBash(test.get(3).replace("localhost/8081", "127.0.0.1/1"))).as("nothing listens").isNotZero();
    }

    @Test
    void theKraftClusterIdRoundTripsThroughKafkasUuid() {
        for (Map<String, String> variables : List.of(Map.<String, String>of(), envExample())) {
            String clusterId = COMPOSE.environment("kafka", variables).get("CLUSTER_ID");
            assertThat(Uuid.fromString(clusterId).toString()).as("CLUSTER_ID %s as Kafka reads it", clusterId).isEqualTo(clusterId);
        }
    }

    @Test
    void everyBindMountCarriesAnSelinuxLabel() {
        int bindMounts = 0;
        for (ComposeFile file : List.of(COMPOSE, EXTERNAL)) {
            for (String service : file.services().keySet()) {
                for (String volume : file.volumes(service)) {
                    String[] parts = ComposeFile.interpolate(volume, REQUIRED).split(":");
                    boolean bind = parts[0].startsWith(".") || parts[0].startsWith("/") || parts[0].startsWith("~");
                    if (bind) {
                        bindMounts++;
                        List<String> options = parts.length > 2 ? List.of(parts[2].split(",")) : List.of();
                        assertThat(options).as("%s: %s of %s has no SELinux label (z)", file.file().getFileName(), volume, service)
                                .containsAnyOf("z", "Z");
                    }
                }
            }
        }
        assertThat(bindMounts).isGreaterThanOrEqualTo(3);
    }

    @Test
    void everyFolderTheStreamsAppWritesBelongsToItsUser() {
        for (String name : List.of("cpu", "demo", "gpu")) {
            Dockerfile.Stage stage = STREAMS.stage(name);
            String user = stage.user().orElseThrow(() -> new AssertionError("stage " + name + " runs as root"));
            String home = stage.homeOf(user).orElseThrow();
            List<String> owned = stage.chownedTo(user);
            assertThat(owned).as("stage %s hands %s some folders", name, user).isNotEmpty();
            Map<String, String> env = stage.env();
            for (String variable : STREAMS_WRITE_VARIABLES) {
                assertThat(env.get(variable)).as("stage %s sets no %s: the app would write under %s's home %s, which is root's",
                        name, variable, user, home).isNotBlank();
                assertOwned(owned, env.get(variable), "stage " + name + ": " + variable);
            }
        }
        for (String service : List.of("streams-app", "streams-app-cpu")) {
            Dockerfile.Stage stage = STREAMS.stage(String.valueOf(COMPOSE.build(service).get("target")));
            Map<String, String> environment = COMPOSE.environment(service, Map.of());
            for (String variable : STREAMS_WRITE_VARIABLES) {
                if (environment.containsKey(variable)) {
                    assertOwned(stage.chownedTo(stage.user().orElseThrow()), environment.get(variable), service + ": " + variable);
                }
            }
        }
    }

    /**
     * The GPU stage's warm-up step, run as the build runs it: with the stage's ENV and no CUDA driver. The libtorch
     * folder holds stand-ins that fail to load, as libcaffe2_nvrtc.so fails without libcuda.so.1 during a build:
     * the step passes only if it loads nothing.
     */
    @Test
    void theGpuImageBuildStepsLoadNoCudaLibrary(@TempDir Path temp) throws Exception {
        Dockerfile.Stage gpu = STREAMS.stage("gpu");
        List<String> steps = gpu.runs().stream().filter(run -> run.startsWith("java ")).toList();
        assertThat(steps).as("java steps of the gpu stage").isNotEmpty();
        Path tools = compileTools(temp.resolve("tools"));
        Map<String, String> env = new HashMap<>(gpu.env());
        Path libtorch = Files.createDirectories(temp.resolve("torch-lib"));
        for (String library : List.of("libc10.so", "libc10_cuda.so", "libcaffe2_nvrtc.so", "libshm.so", "libtorch.so", "libtorch_cpu.so",
                "libtorch_cuda.so", "libtorch_global_deps.so")) {
            Files.writeString(libtorch.resolve(library), "a stand-in: loading it fails, as without the CUDA driver\n");
        }
        env.put("PYTORCH_LIBRARY_PATH", libtorch.toString());
        env.put("DJL_CACHE_DIR", Files.createDirectories(temp.resolve("djl-cache")).toString());
        // The gpu image has /app/lib only: no CPU libtorch jar (/app/lib-cpu) to fall back on.
        String classPath = String.join(File.pathSeparator, ImageRuntime.runtimeClassPath("streams-app").stream()
                .filter(entry -> !entry.contains("pytorch-native-cpu")).toList()) + File.pathSeparator + tools;
        for (String step : steps) {
            Matcher java = Pattern.compile("java ((?:-D\\S+ )*)-cp \\S+ (\\w+)((?: \\w+)*)").matcher(step);
            assertThat(java.matches()).as("step '%s': java [-D...] -cp ... Main [args]", step).isTrue();
            List<String> command = new ArrayList<>(List.of(ImageRuntime.javaExecutable()));
            command.addAll(List.of(java.group(1).trim().split("\\s+")));
            command.addAll(List.of("-cp", classPath, java.group(2)));
            command.addAll(List.of(java.group(3).trim().split("\\s+")));
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            builder.environment().clear();
            builder.environment().putAll(env);
            Process process = builder.start();
            try {
                String output = new String(process.getInputStream().readAllBytes());
                assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(process.exitValue()).as("step '%s' without a CUDA driver:\n%s", step, output).isZero();
                assertThat(output).contains("EngineWarmUp: ok (gpu");
            } finally {
                process.destroyForcibly();
            }
        }
        // The same check refuses a libtorch folder that lacks what DJL will load at start.
        Files.delete(libtorch.resolve("libcaffe2_nvrtc.so"));
        assertThat(runWarmUp(classPath, env)).contains("has no libcaffe2_nvrtc.so");
    }

    /** "auto" and the image's own device both choose the GPU on the gpu image, and a missing driver is an error. */
    @Test
    void theGpuImageRunsOnTheGpuOrRefusesToStart(@TempDir Path temp) throws IOException {
        Dockerfile.Stage gpu = STREAMS.stage("gpu");
        Map<String, String> env = gpu.env();
        String cudart = env.get("MQDET_CUDA_RUNTIME_PATH");
        assertThat(cudart).as("the gpu stage names the folder of libcudart.so.12").isNotBlank();
        assertThat(gpu.entrypoint()).as("DJL's GPU count finds cudart through JNA's search path").contains("-Djna.library.path=" + cudart);
        String flavor = env.get("PYTORCH_FLAVOR");
        Path driverFolder = Files.createDirectories(temp.resolve("usr/lib/x86_64-linux-gnu"));
        Files.createFile(driverFolder.resolve(DeviceRule.CUDA_DRIVER));
        for (String configured : List.of("auto", env.get("MQDET_MODEL_DEVICE"))) {
            DeviceRule.Choice choice = new DeviceRule(flavor, List.of(Path.of(cudart), driverFolder), () -> 0).choose(configured);
            assertThat(choice.device().isGpu()).as("%s: %s", configured, choice.logLine()).isTrue();
            assertThat(choice.logLine()).contains("PYTORCH_FLAVOR=" + flavor).contains(driverFolder.toString());
        }
        assertThatThrownBy(() -> new DeviceRule(flavor, List.of(Path.of(cudart)), () -> 0).choose("auto"))
                .isInstanceOf(DeviceUnavailableException.class).hasMessageContaining("libcuda.so.1");
        // The cpu image's libtorch has no CUDA: auto runs there on the CPU, even on a host with a GPU.
        Map<String, String> cpu = STREAMS.stage("cpu").env();
        String cpuFlavor = cpu.getOrDefault("PYTORCH_FLAVOR", "cpu");
        assertThat(new DeviceRule(cpuFlavor, List.of(driverFolder), () -> 1).choose(cpu.get("MQDET_MODEL_DEVICE")).device().isGpu()).isFalse();
    }

    private static Set<String> toolsOf(String service) {
        Map<String, Object> build = COMPOSE.build(service);
        if (build != null) {
            Dockerfile dockerfile = Dockerfile.load(ROOT.resolve(String.valueOf(build.get("dockerfile"))));
            Object target = build.get("target");
            Dockerfile.Stage stage = target == null ? dockerfile.last() : dockerfile.stage(String.valueOf(target));
            return new HashSet<>(stage.aptPackages());
        }
        String image = COMPOSE.value(service, "image", REQUIRED);
        String repository = image.contains(":") ? image.substring(0, image.lastIndexOf(':')) : image;
        Set<String> tools = PULLED_IMAGE_TOOLS.get(repository);
        assertThat(tools).as("documented tools of %s (the image of %s)", repository, service).isNotNull();
        return tools;
    }

    private static void assertOwned(List<String> owned, String path, String what) {
        assertThat(owned.stream().anyMatch(root -> Path.of(path).normalize().startsWith(Path.of(root))))
                .as("%s = %s lies in none of the folders handed to the user %s", what, path, owned).isTrue();
    }

    private static int runBash(String command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder("/bin/bash", "-c", command).redirectErrorStream(true);
        builder.environment().clear();
        builder.environment().put("PATH", "");
        Process process = builder.start();
        try {
            process.getInputStream().readAllBytes();
            assertThat(process.waitFor(20, TimeUnit.SECONDS)).isTrue();
            return process.exitValue();
        } finally {
            process.destroyForcibly();
        }
    }

    private static String runWarmUp(String classPath, Map<String, String> env) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(ImageRuntime.javaExecutable(), "-cp", classPath, "EngineWarmUp", "gpu")
                .redirectErrorStream(true);
        builder.environment().clear();
        builder.environment().putAll(env);
        Process process = builder.start();
        try {
            String output = new String(process.getInputStream().readAllBytes());
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(process.exitValue()).as(output).isNotZero();
            return output;
        } finally {
            process.destroyForcibly();
        }
    }

    private static Path compileTools(Path out) throws IOException {
        Files.createDirectories(out);
        int status = ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", out.toString(),
                "-cp", System.getProperty("java.class.path"), ROOT.resolve("docker/tools/EngineWarmUp.java").toString());
        assertThat(status).as("javac EngineWarmUp").isZero();
        return out;
    }

    private static Map<String, String> envExample() {
        Map<String, String> variables = new HashMap<>(REQUIRED);
        try {
            for (String line : Files.readAllLines(ROOT.resolve("docker/env.example"))) {
                int eq = line.indexOf('=');
                if (!line.startsWith("#") && eq > 0) {
                    variables.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return variables;
    }
}
