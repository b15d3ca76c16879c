package dev.mqdet.streams.ops;

import io.javalin.Javalin;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.function.Supplier;
import org.apache.kafka.streams.KafkaStreams;

/**
 * Health and metrics over HTTP: {@code /health/live} (the process answers), {@code /health/ready} (200 only while
 * Kafka Streams is RUNNING; 503 with the state otherwise, e.g. during a rebalance or restore) and {@code /metrics}
 * (Prometheus text format).
 */
public final class HealthServer implements AutoCloseable {

    private final Javalin server;

    public HealthServer(int port, Supplier<KafkaStreams.State> state, PrometheusMeterRegistry metrics) {
        this.server = Javalin.create(config -> config.showJavalinBanner = false)
                .get("/health/live", ctx -> ctx.result("ok"))
                .get("/health/ready", ctx -> {
                    KafkaStreams.State current = state.get();
                    ctx.status(current == KafkaStreams.State.RUNNING ? 200 : 503).result(current.name());
                })
                .get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape()))
                .start("0.0.0.0", port);
    }

    public int port() {
        return server.port();
    }

    @Override
    public void close() {
        server.stop();
    }
}
