package dev.mqdet.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two servers every part of the pipeline talks to, running locally for real: a Kafka broker
 * ({@link EmbeddedKafka}) and a Confluent-compatible Schema Registry ({@link ApicurioRegistry}).
 *
 * <p>Tests get one shared instance per JVM through {@link LocalStackExtension}; the local demo starts its own
 * with {@link #start(Path)}.
 */
public final class LocalStack implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LocalStack.class);
    private static LocalStack shared;

    private final EmbeddedKafka kafka;
    private final ApicurioRegistry registry;
    private final Thread shutdownHook;
    private boolean closed;

    private LocalStack(EmbeddedKafka kafka, ApicurioRegistry registry) {
        this.kafka = kafka;
        this.registry = registry;
        // SIGTERM or Ctrl-C on a process using the stack (the demo) must not leave the registry child behind or the
        // broker's data half-written; close() makes this hook a no-op.
        this.shutdownHook = new Thread(this::stop, "local-stack-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Starts both servers, keeping Kafka's data and the registry's log under {@code workDir}. */
    public static LocalStack start(Path workDir) {
        return start(workDir, Optional.of(workDir.resolve("kafka")));
    }

    /** Starts both servers; the registry process boots while the broker formats and starts. */
    private static LocalStack start(Path workDir, Optional<Path> kafkaDataDir) {
        long started = System.nanoTime();
        ApicurioRegistry registry = ApicurioRegistry.launch(workDir.resolve("registry"));
        EmbeddedKafka kafka;
        try {
            kafka = EmbeddedKafka.start(kafkaDataDir);
            registry.awaitReady();
        } catch (RuntimeException e) {
            registry.close();
            throw e;
        }
        log.info("local stack up in {} ms: kafka {} registry {}",
                (System.nanoTime() - started) / 1_000_000, kafka.bootstrapServers(), registry.url());
        return new LocalStack(kafka, registry);
    }

    /** The instance shared by every test in this JVM, started on first use and stopped when the JVM exits. */
    public static synchronized LocalStack shared() {
        if (shared == null) {
            try {
                Path workDir = Files.createTempDirectory("mqdet-local-stack");
                shared = start(workDir, Optional.empty()); // broker data in a folder deleted on close; stopped by its hook
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return shared;
    }

    /** Stops the shared instance, if one was started; the JVM shutdown hook then has nothing left to do. */
    public static synchronized void closeShared() {
        if (shared != null) {
            shared.close();
        }
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** The registry's Confluent-compatible base URL. */
    public String schemaRegistryUrl() {
        return registry.url();
    }

    public EmbeddedKafka kafka() {
        return kafka;
    }

    public ApicurioRegistry registry() {
        return registry;
    }

    /** Client properties for this stack: bootstrap servers and registry URL, ready to extend. */
    public Map<String, Object> clientConfig() {
        return Map.of("bootstrap.servers", bootstrapServers(), "schema.registry.url", schemaRegistryUrl());
    }

    /** Stops both servers; safe to call more than once. A JVM shutdown hook calls it too, so nothing is left behind. */
    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // called from a shutdown hook: the hook is running or has run
        }
    }

    private synchronized void stop() {
        if (closed) {
            return;
        }
        closed = true;
        log.info("stopping local stack: registry {} and kafka {}", registry.url(), kafka.bootstrapServers());
        try {
            registry.close();
        } finally {
            kafka.close();
        }
    }
}
