package dev.mqdet.testkit;

import java.nio.file.Path;
import java.util.Map;

/**
 * A real Schema Registry ({@link ApicurioRegistry}) for tests that kill and restart it under a running pipeline: a
 * fixed port on 127.0.0.1 and Apicurio's SQL storage in an H2 file under {@code dataDir} instead of its default
 * in-memory H2, so a restart finds every subject, version and schema id it had. {@code WRITE_DELAY=0} makes H2
 * write each commit at once: a schema registered just before a SIGKILL is still there after the restart (with H2's
 * default delay of about a second it is not).
 */
public final class RestartableRegistry implements AutoCloseable {

    private final Path dataDir;
    private final int port;
    private ApicurioRegistry process;
    private int starts;

    private RestartableRegistry(Path dataDir, int port) {
        this.dataDir = dataDir;
        this.port = port;
    }

    /** Starts a registry on a free port with its storage under {@code dataDir} and waits until it answers. */
    public static RestartableRegistry start(Path dataDir) {
        RestartableRegistry registry = new RestartableRegistry(dataDir, ApicurioRegistry.freePort());
        registry.launch();
        return registry;
    }

    /** The Confluent-compatible base URL; the same after a restart. */
    public String url() {
        return "http://127.0.0.1:" + port + ApicurioRegistry.CCOMPAT_PATH;
    }

    public boolean isRunning() {
        return process != null && process.isRunning();
    }

    /** Kills the server process without a clean shutdown (SIGKILL). */
    public void kill() {
        process.kill();
    }

    /** Starts the server again on the same port and storage, after {@link #kill}; waits until it answers. */
    public void restart() {
        if (isRunning()) {
            throw new IllegalStateException("the registry is still running");
        }
        launch();
    }

    private void launch() {
        starts++;
        process = ApicurioRegistry.launch(dataDir.resolve("start-" + starts), port, Map.of(
                "apicurio.datasource.url", "jdbc:h2:file:" + dataDir.resolve("h2/registry").toAbsolutePath() + ";WRITE_DELAY=0"));
        process.awaitReady();
    }

    /** Stops the server if it still runs; the storage stays (the caller owns {@code dataDir}). */
    @Override
    public void close() {
        if (process != null) {
            process.close();
        }
    }
}
