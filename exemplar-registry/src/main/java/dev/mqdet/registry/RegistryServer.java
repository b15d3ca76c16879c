package dev.mqdet.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.registry.api.HttpApi;
import dev.mqdet.registry.config.Limits;
import dev.mqdet.registry.config.RegistryConfig;
import dev.mqdet.registry.health.Health;
import dev.mqdet.registry.live.LiveFeed;
import dev.mqdet.registry.store.QuerySetStore;
import dev.mqdet.registry.store.TopicSetup;
import dev.mqdet.registry.store.TopicWriter;
import dev.mqdet.registry.validation.CategoryValidator;
import dev.mqdet.registry.view.QuerySetView;
import dev.mqdet.registry.view.TopicFollower;
import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.schemaregistry.SchemaRegistryClient;
import dev.mqdet.topics.Topics;
import io.javalin.Javalin;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.kafka.common.serialization.Serde;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry service, wired: topic checked (and created when allowed), producer started, view rebuilt from the
 * topic, then the HTTP server. Nothing is served before the view has caught up with the topic.
 */
public final class RegistryServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RegistryServer.class);

    private final List<AutoCloseable> parts;
    private final Javalin app;
    private final QuerySetView view;
    private final HttpApi api;

    private RegistryServer(List<AutoCloseable> parts, Javalin app, QuerySetView view, HttpApi api) {
        this.parts = parts;
        this.app = app;
        this.view = view;
        this.api = api;
    }

    /** Starts the service; fails with a message naming the setting when the configuration is unusable. */
    public static RegistryServer start(RegistryConfig config) {
        String token = config.get("registry.token");
        String host = config.get("registry.host");
        if (token.isEmpty() && !isLoopback(host)) {
            throw new IllegalArgumentException("registry.host " + host + " is reachable beyond this machine, and no token is set: set "
                    + "registry.token (environment " + RegistryConfig.envName("registry.token") + ", at least "
                    + RegistryConfig.MIN_TOKEN_LENGTH + " characters) or listen on 127.0.0.1");
        }
        if (token.length() < RegistryConfig.MIN_TOKEN_LENGTH) {
            throw new IllegalArgumentException("registry.token (environment " + RegistryConfig.envName("registry.token")
                    + ") must be set to a secret of at least " + RegistryConfig.MIN_TOKEN_LENGTH + " characters: writes need it");
        }
        String readToken = config.get("registry.read.token");
        if (!readToken.isEmpty() && readToken.length() < RegistryConfig.MIN_TOKEN_LENGTH) {
            throw new IllegalArgumentException("registry.read.token must have at least " + RegistryConfig.MIN_TOKEN_LENGTH + " characters");
        }
        Limits limits = config.limits();
        String topic = config.get("registry.topic");
        List<AutoCloseable> parts = new ArrayList<>();
        try {
            SchemaRegistryClient registry = new RestSchemaRegistryClient(config.schemaRegistryConfig());
            Serde<ExemplarQuery> serde = Topics.EXEMPLAR_QUERIES.valueSerde(registry);
            int maxRecordBytes = TopicSetup.ensure(config.kafkaClientConfig(), topic, config.getBoolean("registry.topic.create"),
                    config.getInt("registry.topic.partitions", 1, 1000), limits.maxRecordBytes());

            // The producer first: initialising its transactions aborts any left open by a crashed predecessor with the
            // same transactional id, so the rebuild below is not held back by them.
            TopicWriter writer = new TopicWriter(config.kafkaClientConfig(), topic, config.get("registry.transactional.id"),
                    serde.serializer(), maxRecordBytes);
            parts.add(writer);

            Health health = new Health();
            QuerySetView view = new QuerySetView();
            TopicFollower follower = new TopicFollower(config.kafkaClientConfig(), topic, serde.deserializer(), view,
                    health.register("exemplar-queries-follower", Health.Impact.UNHEALTHY));
            parts.add(follower);
            follower.rebuild(Duration.ofSeconds(60));
            follower.startFollowing();

            LiveFeed feed = null;
            if (config.getBoolean("registry.live.enabled")) {
                feed = new LiveFeed(config.kafkaClientConfig(), config.get("registry.detections.topic"), config.get("registry.images.topic"),
                        Topics.DETECTIONS.valueSerde(registry).deserializer(), Topics.IMAGES.valueSerde(registry).deserializer(),
                        config.getInt("registry.live.events", 1, 10_000), config.getLong("registry.live.image.bytes", 0, Long.MAX_VALUE),
                        health.register("live-feed", Health.Impact.DEGRADED));
                parts.add(feed);
                feed.start();
            }

            QuerySetStore store = new QuerySetStore(view, writer, limits, Clock.systemUTC());
            HttpApi api = new HttpApi(store, new CategoryValidator(limits), feed, new ObjectMapper(), config, health);
            Javalin app = api.create();
            app.start(config.get("registry.host"), config.getInt("registry.port", 0, 65535));
            log.info("exemplar registry serving on http://{}:{}/ (topic {}, {} query sets)",
                    config.get("registry.host"), app.port(), topic, view.querySets().size());
            return new RegistryServer(parts, app, view, api);
        } catch (RuntimeException e) {
            Collections.reverse(parts);
            closeAll(parts);
            throw e;
        }
    }

    /** Loopback only: 127.0.0.0/8, ::1 or localhost. */
    static boolean isLoopback(String host) {
        String h = host.trim().toLowerCase(java.util.Locale.ROOT);
        return h.equals("localhost") || h.equals("::1") || h.equals("[::1]") || h.matches("127\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}");
    }

    /** The port actually bound (useful with {@code registry.port=0}). */
    public int port() {
        return app.port();
    }

    public QuerySetView view() {
        return view;
    }

    /** Every route the HTTP API serves, as "METHOD path". */
    public List<String> routes() {
        return api.routes();
    }

    /** Blocks until the JVM is asked to stop. */
    public void awaitShutdown() {
        Object lock = new Object();
        Runtime.getRuntime().addShutdownHook(new Thread(this::close, "registry-shutdown"));
        synchronized (lock) {
            try {
                lock.wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public synchronized void close() {
        app.stop();
        List<AutoCloseable> reversed = new ArrayList<>(parts);
        Collections.reverse(reversed);
        closeAll(reversed);
        parts.clear();
    }

    private static void closeAll(List<AutoCloseable> parts) {
        for (AutoCloseable part : parts) {
            try {
                part.close();
            } catch (Exception e) {
                log.warn("error while closing {}", part.getClass().getSimpleName(), e);
            }
        }
    }
}
