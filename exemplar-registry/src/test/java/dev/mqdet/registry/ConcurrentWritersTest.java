package dev.mqdet.registry;

import static dev.mqdet.registry.RegistryHarness.category;
import static dev.mqdet.registry.RegistryHarness.exemplar;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** 20 writers at once on one category and on one query set: every update survives, revisions have no gaps or repeats. */
@ExtendWith(LocalStackExtension.class)
class ConcurrentWritersTest {

    private static final int WRITERS = 20;

    @Test
    void twentyConcurrentWritersLoseNoUpdate(LocalStack stack) throws Exception {
        byte[] png = TestImages.png(40, 40);
        // A model that takes 64 exemplars per category, so that every writer's exemplar fits in the shared one.
        java.nio.file.Path model = java.nio.file.Files.createTempFile("model", ".json");
        java.nio.file.Files.writeString(model, "{\"exemplars\": {\"max_exemplars_per_category\": 64}}");
        try (RegistryHarness h = new RegistryHarness(stack, Map.of("registry.model.json", model.toString()))) {
            assertThat(h.write("PUT", "/api/query-sets/race/categories/shared", category("shared", List.of())).status()).isEqualTo(201);
            ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < WRITERS; i++) {
                int n = i;
                results.add(pool.submit(() -> {
                    go.await();
                    // Half add an exemplar to the same category (read-modify-write of one record), half create categories.
                    Map<String, Object> body = Map.of("exemplars", List.of(Map.of("exemplarId", "w" + n,
                            "image", exemplar(png, 0, 0, 10, 10).get("image"), "box", Map.of("x1", 0, "y1", 0, "x2", 10 + n, "y2", 10))));
                    int a = h.write("POST", "/api/query-sets/race/categories/shared/exemplars", body).status();
                    int b = h.write("PUT", "/api/query-sets/race/categories/c" + n, category("c" + n, List.of())).status();
                    return a * 1000 + b;
                }));
            }
            go.countDown();
            for (Future<Integer> r : results) {
                assertThat(r.get(120, TimeUnit.SECONDS)).isEqualTo(201 * 1000 + 201);
            }
            pool.shutdown();

            JsonNode shared = h.get("/api/query-sets/race/categories/shared").json();
            assertThat(shared.get("exemplars")).hasSize(WRITERS);
            assertThat(shared.get("revision").asLong()).isEqualTo(WRITERS + 1);
            assertThat(h.get("/api/query-sets/race").json().get("categories")).hasSize(WRITERS + 1);

            List<ConsumerRecord<String, ExemplarQuery>> records = h.records();
            List<ExemplarQuery> sharedRecords = records.stream().filter(r -> r.key().equals("race/shared")).map(ConsumerRecord::value).toList();
            assertThat(sharedRecords).extracting(ExemplarQuery::getRevision)
                    .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, WRITERS + 1).boxed().toList());
            for (int i = 0; i < sharedRecords.size(); i++) {
                assertThat(sharedRecords.get(i).getExemplars()).as("record %d has every earlier exemplar", i).hasSize(i);
            }
            List<String> ids = sharedRecords.get(WRITERS).getExemplars().stream().map(e -> e.getExemplarId().toString()).sorted().toList();
            assertThat(ids).containsExactlyInAnyOrderElementsOf(java.util.stream.IntStream.range(0, WRITERS).mapToObj(i -> "w" + i).toList());
            assertThat(records.stream().filter(r -> r.key().matches("race/c\\d+"))).hasSize(WRITERS);
        }
    }
}
