package dev.mqdet.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.registry.config.RegistryConfig;
import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.topics.Topics;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A registry service on the shared real broker and registry, with its own topics (names unique per harness, so tests
 * never see each other's records), plus the plain HTTP and Kafka clients the tests check it with.
 */
final class RegistryHarness implements AutoCloseable {

    static final String TOKEN = "test-write-token-0123456789";
    static final ObjectMapper JSON = new ObjectMapper();

    final LocalStack stack;
    final String topic;
    final Map<String, String> settings;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    RegistryServer server;

    RegistryHarness(LocalStack stack, Map<String, String> overrides) {
        this.stack = stack;
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        this.topic = "exemplar-queries-" + suffix;
        Map<String, String> s = new HashMap<>();
        s.put("registry.port", "0");
        s.put("bootstrap.servers", stack.bootstrapServers());
        s.put("schema.registry.url", stack.schemaRegistryUrl());
        s.put("registry.token", TOKEN);
        s.put("registry.topic", topic);
        s.put("registry.transactional.id", "registry-test-" + suffix);
        s.put("registry.detections.topic", "detections-" + suffix);
        s.put("registry.images.topic", "images-" + suffix);
        s.put("registry.live.enabled", "false");
        s.putAll(overrides);
        this.settings = s;
        start();
    }

    RegistryHarness(LocalStack stack) {
        this(stack, Map.of());
    }

    void start() {
        server = RegistryServer.start(RegistryConfig.of(settings));
    }

    void restart() {
        server.close();
        start();
    }

    String url() {
        return "http://127.0.0.1:" + server.port();
    }

    record Reply(int status, String body, HttpResponse<byte[]> raw) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }

        String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }
    }

    Reply send(String method, String path, Object body, String token, Map<String, String> headers) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url() + path)).timeout(Duration.ofSeconds(60));
            if (body != null) {
                byte[] bytes = body instanceof byte[] raw ? raw : body instanceof String s ? s.getBytes() : JSON.writeValueAsBytes(body);
                b.method(method, HttpRequest.BodyPublishers.ofByteArray(bytes));
                if (!headers.containsKey("Content-Type")) {
                    b.header("Content-Type", "application/json");
                }
            } else {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            }
            if (token != null) {
                b.header("Authorization", "Bearer " + token);
            }
            headers.forEach(b::header);
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            return new Reply(r.statusCode(), new String(r.body()), r);
        } catch (IOException e) {
            throw new AssertionError(method + " " + path + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    Reply get(String path) {
        return send("GET", path, null, null, Map.of());
    }

    Reply write(String method, String path, Object body) {
        return send(method, path, body, TOKEN, Map.of());
    }

    /** A JSON exemplar: image bytes as base64 and a box. */
    static Map<String, Object> exemplar(byte[] image, double x1, double y1, double x2, double y2) {
        Map<String, Object> e = new HashMap<>();
        e.put("image", Map.of("data", Base64.getEncoder().encodeToString(image)));
        e.put("box", Map.of("x1", x1, "y1", y1, "x2", x2, "y2", y2));
        return e;
    }

    static Map<String, Object> category(String label, List<Map<String, Object>> exemplars) {
        Map<String, Object> c = new HashMap<>();
        if (label != null) {
            c.put("label", label);
        }
        c.put("exemplars", exemplars);
        return c;
    }

    /** Every record of the topic that a read_committed consumer sees, from the beginning to the current end. */
    List<ConsumerRecord<String, ExemplarQuery>> records() {
        return records("read_committed");
    }

    List<ConsumerRecord<String, ExemplarQuery>> records(String isolation) {
        RestSchemaRegistryClient registry = new RestSchemaRegistryClient(Map.of("schema.registry.url", stack.schemaRegistryUrl()));
        Deserializer<ExemplarQuery> values = Topics.EXEMPLAR_QUERIES.valueSerde(registry).deserializer();
        Map<String, Object> props = Map.of("bootstrap.servers", stack.bootstrapServers(), "isolation.level", isolation,
                "enable.auto.commit", "false");
        List<ConsumerRecord<String, ExemplarQuery>> out = new ArrayList<>();
        try (KafkaConsumer<String, ExemplarQuery> consumer = new KafkaConsumer<>(props, new StringDeserializer(), values)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.currentTimeMillis() + 20_000;
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                assertThat(System.currentTimeMillis()).as("reading %s to its end", topic).isLessThan(deadline);
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    /** The sum of the end offsets: any write, even an aborted transaction's marker, moves it. */
    long endOffset() {
        Map<String, Object> props = Map.of("bootstrap.servers", stack.bootstrapServers());
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            return consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
        }
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
    }
}
