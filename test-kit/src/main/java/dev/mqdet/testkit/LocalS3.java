package dev.mqdet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real S3-compatible server: Adobe's S3Mock (Spring Boot, Java 17) run as a child process on a free port of
 * 127.0.0.1 (plain HTTP; its HTTPS connector on another free port), with {@code bucket} created and its objects in a
 * folder under {@code workDir}. The executable jar is copied from Maven Central by this module's build. Clients use
 * path-style access, any region and any credentials (S3Mock does not check signatures).
 */
public final class LocalS3 implements AutoCloseable {

    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(90);

    private final Process process;
    private final int port;
    private final String bucket;
    private final Path logFile;
    private final Thread shutdownHook;

    private LocalS3(Process process, int port, String bucket, Path logFile) {
        this.process = process;
        this.port = port;
        this.bucket = bucket;
        this.logFile = logFile;
        this.shutdownHook = new Thread(this::stop, "local-s3-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Starts the server with {@code bucket} and waits until it lists that bucket. */
    public static LocalS3 start(Path workDir, String bucket) {
        Path jar = Path.of(ServerProcesses.property("s3mock.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("S3Mock is not at " + jar + "; build the test-kit module first (./mvnw -pl test-kit install)");
        }
        int port = ApicurioRegistry.freePort();
        try {
            Files.createDirectories(workDir);
            Path logFile = workDir.resolve("s3mock-" + port + ".log");
            List<String> command = List.of(ServerProcesses.javaExecutable(),
                    "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar.toString(),
                    "--http.port=" + port, "--server.port=" + ApicurioRegistry.freePort(), "--server.address=127.0.0.1",
                    "--com.adobe.testing.s3mock.store.initial-buckets=" + bucket,
                    "--com.adobe.testing.s3mock.store.root=" + workDir.resolve("s3-objects-" + port),
                    "--spring.main.banner-mode=off", "--logging.level.root=WARN");
            Process process = new ProcessBuilder(command).directory(workDir.toFile())
                    .redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
            return new LocalS3(process, port, bucket, logFile).awaitReady();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start S3Mock from " + jar, e);
        }
    }

    private LocalS3 awaitReady() {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException("S3Mock exited with code " + process.exitValue() + "; log: " + logFile + "\n" + ServerProcesses.logTail(logFile));
            }
            try {
                HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(endpoint() + "/"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (answer.statusCode() == 200 && answer.body().contains("<Name>" + bucket + "</Name>")) {
                    return this;
                }
            } catch (IOException notYet) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException("interrupted while waiting for S3Mock", e);
            }
            if (System.nanoTime() > deadline) {
                close();
                throw new IllegalStateException("S3Mock did not become ready within " + STARTUP_TIMEOUT + "; log: " + logFile + "\n" + ServerProcesses.logTail(logFile));
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException("interrupted", e);
            }
        }
    }

    /** The endpoint override for clients, e.g. {@code http://127.0.0.1:41234}. */
    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    public String bucket() {
        return bucket;
    }

    public ProcessHandle process() {
        return process.toHandle();
    }

    /** Stops the server (SIGTERM, then SIGKILL after 10 s); safe to call more than once. */
    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // called from the hook itself
        }
    }

    private void stop() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
