package dev.mqdet.streams;

import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.client.PipelineClient;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.events.Exemplar;
import dev.mqdet.topics.Topics;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** What the streams tests share: the shipped model and scenes, and app settings for a pipeline on the local stack. */
public final class TestPipelines {
    private TestPipelines() {}

    static Path repoRoot() {
        return Path.of(System.getProperty("mqdet.repo.root", "..")).toAbsolutePath().normalize();
    }

    static String modelDir() {
        return System.getProperty("mqdet.test.model", repoRoot().resolve("models/mqdet-synth-v1").toString());
    }

    static SyntheticWorld world() {
        return SyntheticWorld.load(repoRoot().resolve("models/synth-eval"));
    }

    /** Settings of an app instance on {@code stack}, reading and writing {@code client}'s topics. */
    static Map<String, String> settings(LocalStack stack, PipelineClient client, String applicationId) {
        Map<String, String> settings = new HashMap<>(StreamsAppConfig.topicNames(client.topicPrefix()));
        settings.put("bootstrap.servers", stack.bootstrapServers());
        settings.put("schema.registry.url", stack.schemaRegistryUrl());
        settings.put("application.id", applicationId);
        settings.put("state.dir", tempDir(applicationId).toString());
        settings.put("commit.interval.ms", "100");
        settings.put(StreamsAppConfig.MODEL_DIR, modelDir());
        settings.put(StreamsAppConfig.HTTP_PORT, "0");
        settings.put(StreamsAppConfig.BATCH_MAX_WAIT_MS, "50");
        settings.put(StreamsAppConfig.SCORE_THRESHOLD, SyntheticWorld.SHOWCASE_THRESHOLD);
        return settings;
    }

    /** Settings of an exemplar registry on {@code stack} and {@code client}'s topics, on a free port. */
    public static Map<String, String> registrySettings(LocalStack stack, PipelineClient client, String token, String transactionalId) {
        Map<String, String> settings = new HashMap<>();
        settings.put("registry.port", "0");
        settings.put("bootstrap.servers", stack.bootstrapServers());
        settings.put("schema.registry.url", stack.schemaRegistryUrl());
        settings.put("registry.token", token);
        settings.put("registry.topic", client.topic(Topics.EXEMPLAR_QUERIES));
        settings.put("registry.detections.topic", client.topic(Topics.DETECTIONS));
        settings.put("registry.images.topic", client.topic(Topics.IMAGES));
        settings.put("registry.transactional.id", transactionalId);
        return settings;
    }

    /** An exemplar as the exemplar registry's API takes it: the image base64 inline, and its box. */
    public static Map<String, Object> exemplarJson(Exemplar exemplar) {
        ByteBuffer data = exemplar.getImage().getData().duplicate();
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        var box = exemplar.getBox();
        return Map.of("image", Map.of("data", Base64.getEncoder().encodeToString(bytes), "mediaType", "image/png"),
                "box", Map.of("x1", box.getX1(), "y1", box.getY1(), "x2", box.getX2(), "y2", box.getY2()));
    }

    static Path tempDir(String name) {
        try {
            return Files.createTempDirectory("mqdet-" + name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
