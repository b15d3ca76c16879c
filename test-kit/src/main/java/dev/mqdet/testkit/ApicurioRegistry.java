package dev.mqdet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Schema Registry speaking the Confluent REST API: Apicurio Registry (Java 17 build) run as a child
 * process on 127.0.0.1 with a free port. The server is unpacked from Maven Central by this module's build.
 *
 * <p>Two settings make it behave like Confluent's registry: global compatibility BACKWARD (Apicurio's default
 * is NONE), and canonical schema hashing, so the same schema written with other spacing or key order by
 * another client resolves to the same id.
 */
public final class ApicurioRegistry implements AutoCloseable {

    /** Base path of Apicurio's Confluent-compatible API. */
    public static final String CCOMPAT_PATH = "/apis/ccompat/v7";

    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(90);

    private final Process process;
    private final int port;
    private final Path logFile;
    private final Thread shutdownHook;
    private boolean closed;

    private ApicurioRegistry(Process process, int port, Path logFile) {
        this.process = process;
        this.port = port;
        this.logFile = logFile;
        // The child must not outlive this JVM (SIGTERM, Ctrl-C, System.exit): it would keep its port and memory.
        this.shutdownHook = new Thread(this::stopProcessTree, "apicurio-registry-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Launches the server process and returns at once; call {@link #awaitReady()} before use. */
    public static ApicurioRegistry launch(Path workDir) {
        return launch(workDir, Map.of());
    }

    /**
     * As {@link #launch(Path)}, with extra Quarkus/Apicurio system properties, e.g. an HTTPS port and key store
     * ({@code quarkus.http.ssl-port}, {@code quarkus.http.ssl.certificate.key-store-file}) for TLS tests.
     */
    public static ApicurioRegistry launch(Path workDir, Map<String, String> extraProperties) {
        return launch(workDir, freePort(), extraProperties);
    }

    /** As {@link #launch(Path, Map)}, on a given port (a restart on the port clients already know). */
    public static ApicurioRegistry launch(Path workDir, int port, Map<String, String> extraProperties) {
        Path home = home();
        Path runner = home.resolve(ServerProcesses.property("apicurio.runner"));
        if (!Files.isRegularFile(runner)) {
            throw new IllegalStateException("Apicurio Registry is not unpacked at " + runner
                    + "; build the test-kit module first (./mvnw -pl test-kit install) or set MQDET_APICURIO_HOME");
        }
        try {
            Files.createDirectories(workDir);
            Path logFile = workDir.resolve("apicurio-" + port + ".log");
            List<String> command = new ArrayList<>(List.of(
                    ServerProcesses.javaExecutable(), "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                    "-Dquarkus.http.host=127.0.0.1",
                    "-Dquarkus.http.port=" + port,
                    "-Dquarkus.log.level=WARN",
                    "-Dquarkus.banner.enabled=false",
                    "-Dapicurio.ccompat.use-canonical-hash=true",
                    "-Dapicurio.rest.deletion.artifact.enabled=true",
                    "-Dapicurio.rest.deletion.artifact-version.enabled=true",
                    "-Dapicurio.rest.deletion.group.enabled=true"));
            extraProperties.forEach((key, value) -> command.add("-D" + key + "=" + value));
            command.addAll(List.of("-jar", runner.toString()));
            Process process = new ProcessBuilder(command)
                    .directory(workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(logFile.toFile())
                    .start();
            return new ApicurioRegistry(process, port, logFile);
        } catch (IOException e) {
            throw new UncheckedIOException("could not launch Apicurio Registry from " + runner, e);
        }
    }

    /** Waits until the Confluent API answers, then sets global compatibility to BACKWARD. */
    public ApicurioRegistry awaitReady() {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Apicurio Registry exited with code " + process.exitValue()
                        + " during start-up; log: " + logFile + "\n" + ServerProcesses.logTail(logFile));
            }
            try {
                HttpResponse<String> response = http.send(
                        HttpRequest.newBuilder(URI.create(url() + "/subjects")).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    break;
                }
            } catch (IOException notYet) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for Apicurio Registry", e);
            }
            if (System.nanoTime() > deadline) {
                close();
                throw new IllegalStateException("Apicurio Registry did not become ready within " + STARTUP_TIMEOUT
                        + "; log: " + logFile + "\n" + ServerProcesses.logTail(logFile));
            }
            sleep(100);
        }
        setGlobalCompatibility(http, "BACKWARD");
        return this;
    }

    /** The Confluent-compatible base URL, e.g. {@code http://127.0.0.1:41234/apis/ccompat/v7}. */
    public String url() {
        return "http://127.0.0.1:" + port + CCOMPAT_PATH;
    }

    /** Base URL of Apicurio's own (v3) API, for Apicurio's serdes. */
    public String nativeApiUrl() {
        return "http://127.0.0.1:" + port + "/apis/registry/v3";
    }

    public boolean isRunning() {
        return process.isAlive();
    }

    /** Kills the server process (SIGKILL): no clean shutdown; returns when it is gone. */
    public void kill() {
        process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.onExit().orTimeout(30, TimeUnit.SECONDS).join();
        close();
    }

    /** Stops the server process and anything it started; safe to call more than once, also from a shutdown hook. */
    @Override
    public void close() {
        stopProcessTree();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // called from a shutdown hook: the hook is running or has run
        }
    }

    private synchronized void stopProcessTree() {
        if (closed) {
            return;
        }
        closed = true;
        List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
        tree.add(process.toHandle());
        tree.forEach(ProcessHandle::destroy); // SIGTERM: Quarkus shuts down cleanly
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (ProcessHandle handle : tree) {
            try {
                long left = Math.max(0, deadline - System.nanoTime());
                handle.onExit().get(left, TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                handle.destroyForcibly();
            } catch (InterruptedException e) {
                tree.forEach(ProcessHandle::destroyForcibly);
                Thread.currentThread().interrupt();
                return;
            }
        }
        tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }

    /** The server process, e.g. to check that it is gone. */
    public ProcessHandle process() {
        return process.toHandle();
    }

    private void setGlobalCompatibility(HttpClient http, String level) {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url() + "/config"))
                            .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                            .PUT(HttpRequest.BodyPublishers.ofString("{\"compatibility\":\"" + level + "\"}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("setting compatibility " + level + " failed: HTTP "
                        + response.statusCode() + " " + response.body());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("setting compatibility " + level + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    static Path home() {
        String fromEnv = System.getenv("MQDET_APICURIO_HOME");
        return Path.of(fromEnv != null && !fromEnv.isBlank() ? fromEnv : ServerProcesses.property("apicurio.home"));
    }

    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
