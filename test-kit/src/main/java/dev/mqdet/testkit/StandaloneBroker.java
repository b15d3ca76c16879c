package dev.mqdet.testkit;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

/**
 * A real Kafka broker in a process of its own, for tests that stop and restart the broker under a running pipeline:
 * Apache Kafka's {@code kafka.Kafka} main, KRaft combined mode (one node is broker and controller), on fixed ports of
 * 127.0.0.1 and a data folder that outlives the process, so a restart finds its topics, offsets and transactions.
 * Broker settings are {@link EmbeddedKafka#SINGLE_NODE_SETTINGS}.
 *
 * <p>{@link #main} is what runs in the child JVM: it writes {@code server.properties}, formats the storage once
 * ({@code kafka.tools.StorageTool format --standalone --ignore-formatted}) and starts the broker.
 */
public final class StandaloneBroker implements AutoCloseable {

    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

    private final Path dataDir;
    private final int port;
    private final int controllerPort;
    private ChildJvm process;
    private int starts;

    private StandaloneBroker(Path dataDir, int port, int controllerPort) {
        this.dataDir = dataDir;
        this.port = port;
        this.controllerPort = controllerPort;
    }

    /** Starts a broker on free ports with its data under {@code dataDir} and waits until it answers. */
    public static StandaloneBroker start(Path dataDir) {
        StandaloneBroker broker = new StandaloneBroker(dataDir, ApicurioRegistry.freePort(), ApicurioRegistry.freePort());
        broker.launch();
        return broker;
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Kills the broker process without a clean shutdown (SIGKILL): no controlled shutdown, no final flush. */
    public void kill() throws InterruptedException {
        process.handle().destroyForcibly();
        process.handle().onExit().orTimeout(30, TimeUnit.SECONDS).join();
    }

    /** Stops the broker with SIGTERM (a clean shutdown, about 2 s); returns how long it took, or null if killed at 30 s. */
    public Duration stop() throws InterruptedException {
        return process.terminate(Duration.ofSeconds(30));
    }

    /** Starts the broker again on the same ports and data folder, after {@link #stop} or {@link #kill}; waits until it answers. */
    public void restart() {
        if (isRunning()) {
            throw new IllegalStateException("the broker is still running");
        }
        process.close();
        launch();
    }

    /** The broker's output so far (this start). */
    public String log() {
        return process.log();
    }

    private void launch() {
        starts++;
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        process = ChildJvm.start(StandaloneBroker.class.getName(),
                List.of(dataDir.toString(), Integer.toString(port), Integer.toString(controllerPort)), Map.of(),
                dataDir.resolve("broker-" + starts + ".log"));
        awaitReady();
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 4_000))) {
            while (true) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("the standalone broker exited during start-up; log:\n" + process.log());
                }
                try {
                    if (!admin.describeCluster().nodes().get(4, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (Exception notYet) {
                    // not listening or not ready yet
                }
                if (System.nanoTime() > deadline) {
                    process.close();
                    throw new IllegalStateException("the standalone broker was not ready within " + STARTUP_TIMEOUT + "; log:\n" + process.log());
                }
                Thread.sleep(100);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the standalone broker", e);
        }
    }

    /** Kills the process if it still runs; the data folder stays (the caller owns it). */
    @Override
    public void close() {
        if (process != null) {
            process.close();
        }
    }

    /** Child-JVM entry point: {@code <dataDir> <port> <controllerPort>}. */
    public static void main(String[] args) throws IOException {
        Path dataDir = Path.of(args[0]);
        int port = Integer.parseInt(args[1]);
        int controllerPort = Integer.parseInt(args[2]);
        Properties props = new Properties();
        props.putAll(EmbeddedKafka.SINGLE_NODE_SETTINGS);
        props.put("process.roles", "broker,controller");
        props.put("node.id", "1");
        props.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        props.put("controller.listener.names", "CONTROLLER");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        props.put("controller.quorum.bootstrap.servers", "127.0.0.1:" + controllerPort);
        props.put("log.dirs", dataDir.resolve("logs").toString());
        Path config = dataDir.resolve("server.properties");
        try (OutputStream out = Files.newOutputStream(config)) {
            props.store(out, "StandaloneBroker");
        }
        Path clusterIdFile = dataDir.resolve("cluster.id");
        if (!Files.exists(clusterIdFile)) {
            Files.writeString(clusterIdFile, Uuid.randomUuid().toString());
        }
        int formatted = kafka.tools.StorageTool.execute(new String[] {"format", "--standalone", "--ignore-formatted",
                "-t", Files.readString(clusterIdFile).trim(), "-c", config.toString()}, System.out);
        if (formatted != 0) {
            System.err.println("kafka storage format failed with " + formatted);
            System.exit(formatted);
        }
        kafka.Kafka.main(new String[] {config.toString()});
    }
}
