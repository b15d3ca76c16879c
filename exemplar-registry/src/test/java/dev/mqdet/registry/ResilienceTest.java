package dev.mqdet.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.InlineImage;
import dev.mqdet.registry.config.InvalidSettingException;
import dev.mqdet.registry.config.RegistryConfig;
import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import dev.mqdet.topics.Topics;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Faults of the registry's surroundings, caused for real: the Schema Registry unreachable behind a cut TCP proxy
 * while another producer writes, and what a request without the read token may see.
 */
@ExtendWith(LocalStackExtension.class)
class ResilienceTest {

    private static final String READ_TOKEN = "test-read-token-0123456789";

    @Test
    void aRecordThatCannotBeDecodedYetIsRetriedNotSkippedAndHealthSaysSo(LocalStack stack) throws Exception {
        URI registryUrl = URI.create(stack.schemaRegistryUrl());
        try (TcpProxy proxy = new TcpProxy(registryUrl.getPort());
             RegistryHarness h = new RegistryHarness(stack, Map.of(
                     "schema.registry.url", "http://127.0.0.1:" + proxy.port() + registryUrl.getPath(),
                     "schema.registry.retries", "0",
                     "schema.registry.request.timeout.ms", "1000"))) {
            assertThat(h.get("/health").json().get("status").asText()).isEqualTo("up");
            proxy.cut();

            // Another tool writes a category; this registry has never seen the schema id, so it must ask the registry.
            RestSchemaRegistryClient direct = new RestSchemaRegistryClient(Map.of("schema.registry.url", stack.schemaRegistryUrl()));
            try (KafkaProducer<String, ExemplarQuery> producer = new KafkaProducer<>(Map.of("bootstrap.servers", stack.bootstrapServers()),
                    new StringSerializer(), Topics.EXEMPLAR_QUERIES.valueSerde(direct).serializer())) {
                ExemplarQuery fox = ExemplarQuery.newBuilder().setQuerySetId("wild").setCategoryId("fox").setLabel("fox")
                        .setExemplars(List.of()).setRevision(1).setUpdatedAtMs(Instant.now()).setUpdatedBy(null).build();
                producer.send(new ProducerRecord<>(h.topic, "wild/fox", fox)).get();
            }

            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                RegistryHarness.Reply health = h.get("/health");
                assertThat(health.status()).isEqualTo(503);
                assertThat(health.json().get("status").asText()).isEqualTo("unhealthy");
                assertThat(health.json().at("/components/exemplar-queries-follower/reason").asText()).contains("cannot decode");
            });
            assertThat(h.get("/api/query-sets/wild/categories/fox").status()).isEqualTo(404);

            proxy.restore();
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(h.get("/api/query-sets/wild/categories/fox").status()).isEqualTo(200));
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                RegistryHarness.Reply health = h.get("/health");
                assertThat(health.status()).isEqualTo(200);
                assertThat(health.json().get("status").asText()).isEqualTo("up");
            });
        }
    }

    @Test
    void liveImagesNeedTheReadTokenWhenOneIsConfigured(LocalStack stack) throws Exception {
        try (RegistryHarness h = new RegistryHarness(stack, Map.of("registry.live.enabled", "true",
                "registry.read.token", READ_TOKEN, "registry.auth.reads", "false"))) {
            String imagesTopic = h.settings.get("registry.images.topic");
            stack.kafka().createTopic(imagesTopic, 1, Map.of());
            byte[] png = TestImages.png(20, 20);
            RestSchemaRegistryClient direct = new RestSchemaRegistryClient(Map.of("schema.registry.url", stack.schemaRegistryUrl()));
            try (KafkaProducer<String, ImageEvent> producer = new KafkaProducer<>(Map.of("bootstrap.servers", stack.bootstrapServers()),
                    new StringSerializer(), Topics.IMAGES.valueSerde(direct).serializer())) {
                ImageEvent frame = ImageEvent.newBuilder().setEventId("cam-frame-1").setSource("cam").setQuerySetId("q")
                        .setCapturedAtMs(Instant.now()).setImage(InlineImage.newBuilder().setData(ByteBuffer.wrap(png)).setMediaType("image/png").build())
                        .build();
                producer.send(new ProducerRecord<>(imagesTopic, "cam-frame-1", frame)).get();
            }
            String path = "/api/live/images/cam-frame-1";
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(h.send("GET", path, null, READ_TOKEN, Map.of()).status()).isEqualTo(200));
            assertThat(h.send("GET", path, null, READ_TOKEN, Map.of()).raw().body()).isEqualTo(png);
            assertThat(h.send("GET", path, null, RegistryHarness.TOKEN, Map.of()).status()).isEqualTo(200);
            assertThat(h.get(path).status()).isEqualTo(401);
            assertThat(h.send("GET", path, null, "wrong-token-0123456789", Map.of()).status()).isEqualTo(401);
            // Other reads stay open, as configured.
            assertThat(h.get("/api/query-sets").status()).isEqualTo(200);
        }
    }

    @Test
    void noTokenBeyondLoopbackIsAStartupError(LocalStack stack) {
        RegistryConfig open = RegistryConfig.of(Map.of("registry.host", "0.0.0.0", "registry.token", "",
                "bootstrap.servers", stack.bootstrapServers(), "schema.registry.url", stack.schemaRegistryUrl()));
        assertThatThrownBy(() -> RegistryServer.start(open)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("registry.host 0.0.0.0 is reachable beyond this machine").hasMessageContaining("MQDET_REGISTRY_TOKEN");
        assertThat(RegistryServer.isLoopback("127.0.0.1")).isTrue();
        assertThat(RegistryServer.isLoopback("::1")).isTrue();
        assertThat(RegistryServer.isLoopback("localhost")).isTrue();
        assertThat(RegistryServer.isLoopback("127.example.com")).isFalse();
        assertThat(RegistryServer.isLoopback("192.168.1.10")).isFalse();
    }

    @Test
    void anUnknownRegistryKeyIsRefusedWithASuggestion() {
        // A typo here would silently leave reads open.
        assertThatThrownBy(() -> RegistryConfig.of(Map.of("registry.auth.read", "true")))
                .isInstanceOf(InvalidSettingException.class).hasMessageContaining("did you mean registry.auth.reads?");
        assertThatThrownBy(() -> RegistryConfig.of(Map.of("registry.live.events", "0")))
                .isInstanceOf(InvalidSettingException.class).hasMessageContaining("registry.live.events must be between 1 and 10000");
        assertThatThrownBy(() -> RegistryConfig.of(Map.of("registry.topic", " ")))
                .isInstanceOf(InvalidSettingException.class).hasMessageContaining("registry.topic");
    }
}
