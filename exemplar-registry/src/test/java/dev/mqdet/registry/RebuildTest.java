package dev.mqdet.registry;

import static dev.mqdet.registry.RegistryHarness.category;
import static dev.mqdet.registry.RegistryHarness.exemplar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import dev.mqdet.topics.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The topic is the only store: a restarted registry rebuilds the same state, and writes from elsewhere show up live. */
@ExtendWith(LocalStackExtension.class)
class RebuildTest {

    @Test
    void restartRebuildsTheSameState(LocalStack stack) {
        byte[] png = TestImages.png(60, 60);
        try (RegistryHarness h = new RegistryHarness(stack)) {
            h.write("PUT", "/api/query-sets/a/categories/one", category("one", List.of(exemplar(png, 1, 1, 30, 30))));
            h.write("PUT", "/api/query-sets/a/categories/two", category("two", List.of()));
            h.write("PATCH", "/api/query-sets/a/categories/two", Map.of("label", "deux"));
            h.write("PUT", "/api/query-sets/a/categories/gone", category("gone", List.of()));
            h.write("DELETE", "/api/query-sets/a/categories/gone", null);
            h.write("PUT", "/api/query-sets/b/categories/x", category("x", List.of()));
            h.write("POST", "/api/query-sets/b/rename", Map.of("newId", "c"));
            JsonNode list = h.get("/api/query-sets").json();
            JsonNode a = h.get("/api/query-sets/a").json();
            JsonNode c = h.get("/api/query-sets/c").json();

            h.restart();

            assertThat(h.get("/api/query-sets").json()).isEqualTo(list);
            assertThat(h.get("/api/query-sets/a").json()).isEqualTo(a);
            assertThat(h.get("/api/query-sets/c").json()).isEqualTo(c);
            assertThat(h.get("/api/query-sets/b").status()).isEqualTo(404);
            assertThat(h.get("/api/query-sets/a/categories/gone").status()).isEqualTo(404);
            assertThat(h.get("/api/query-sets/a/categories/one/exemplars/" + a.at("/categories/0/exemplars/0/exemplarId").asText() + "/image")
                    .raw().body()).isEqualTo(png);
            // Revisions continue after a restart, deleted categories included.
            assertThat(h.write("PATCH", "/api/query-sets/a/categories/two", Map.of("label", "zwei")).json().get("revision").asLong()).isEqualTo(3);
            assertThat(h.write("PUT", "/api/query-sets/a/categories/gone", category("back", List.of())).json().get("revision").asLong()).isEqualTo(2);
        }
    }

    @Test
    void writesByAnotherInstanceOrAnyProducerAppearWithoutRestart(LocalStack stack) {
        try (RegistryHarness first = new RegistryHarness(stack)) {
            Map<String, String> sameTopic = Map.of("registry.topic", first.topic, "registry.transactional.id", first.settings.get("registry.transactional.id") + "-b");
            try (RegistryHarness second = new RegistryHarness(stack, sameTopic)) {
                assertThat(first.write("PUT", "/api/query-sets/live/categories/cat", category("cat", List.of())).status()).isEqualTo(201);
                await().atMost(Duration.ofSeconds(10)).until(() -> second.get("/api/query-sets/live/categories/cat").status() == 200);

                // A plain producer (another tool) writes a newer revision and then a tombstone.
                RestSchemaRegistryClient registry = new RestSchemaRegistryClient(Map.of("schema.registry.url", stack.schemaRegistryUrl()));
                try (KafkaProducer<String, ExemplarQuery> producer = new KafkaProducer<>(Map.of("bootstrap.servers", stack.bootstrapServers()),
                        new StringSerializer(), Topics.EXEMPLAR_QUERIES.valueSerde(registry).serializer())) {
                    ExemplarQuery dog = ExemplarQuery.newBuilder().setQuerySetId("live").setCategoryId("dog").setLabel("dog")
                            .setExemplars(List.of()).setRevision(7).setUpdatedAtMs(Instant.now()).setUpdatedBy(null).build();
                    producer.send(new ProducerRecord<>(first.topic, "live/dog", dog));
                    producer.send(new ProducerRecord<>(first.topic, "live/cat", null));
                    producer.send(new ProducerRecord<>(first.topic, "not a valid key", null)); // skipped, not fatal
                    producer.flush();
                }
                for (RegistryHarness h : List.of(first, second)) {
                    await().atMost(Duration.ofSeconds(10)).until(() -> h.get("/api/query-sets/live/categories/cat").status() == 404);
                    assertThat(h.get("/api/query-sets/live/categories/dog").json().get("revision").asLong()).isEqualTo(7);
                }
                // The next write continues from the revision it read.
                assertThat(second.write("PATCH", "/api/query-sets/live/categories/dog", Map.of("label", "hound")).json().get("revision").asLong())
                        .isEqualTo(8);
            }
        }
    }
}
