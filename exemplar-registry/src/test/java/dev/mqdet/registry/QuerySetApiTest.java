package dev.mqdet.registry;

import static dev.mqdet.registry.RegistryHarness.category;
import static dev.mqdet.registry.RegistryHarness.exemplar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.registry.RegistryHarness.Reply;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Each API call writes exactly the expected records and tombstones to the topic, and a GET right after shows it. */
@ExtendWith(LocalStackExtension.class)
class QuerySetApiTest {

    @Test
    void categoryLifecycleWritesExactRecordsAndTombstone(LocalStack stack) {
        byte[] png = TestImages.png(64, 48);
        byte[] jpeg = TestImages.jpeg(80, 60);
        try (RegistryHarness h = new RegistryHarness(stack)) {
            Reply created = h.send("PUT", "/api/query-sets/zoo/categories/bat", category("bat", List.of(exemplar(png, 4, 5, 40, 30))),
                    RegistryHarness.TOKEN, Map.of("X-Client-Name", "test"));
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            String firstId = created.json().at("/exemplars/0/exemplarId").asText();

            // Read-your-writes: the GET right after the write sees it.
            JsonNode got = h.get("/api/query-sets/zoo/categories/bat").json();
            assertThat(got.get("label").asText()).isEqualTo("bat");
            assertThat(got.get("revision").asLong()).isEqualTo(1);
            assertThat(got.at("/exemplars/0/box/x2").asDouble()).isEqualTo(40.0);

            Reply added = h.write("POST", "/api/query-sets/zoo/categories/bat/exemplars",
                    Map.of("exemplars", List.of(Map.of("exemplarId", "second", "image", Map.of("data", java.util.Base64.getEncoder().encodeToString(jpeg), "mediaType", "image/jpeg"),
                            "box", Map.of("x1", 1, "y1", 2, "x2", 79, "y2", 59)))));
            assertThat(added.status()).as(added.body()).isEqualTo(201);
            Reply relabelled = h.write("PATCH", "/api/query-sets/zoo/categories/bat", Map.of("label", "  fruit bat "));
            assertThat(relabelled.status()).as(relabelled.body()).isEqualTo(200);
            Reply removed = h.write("DELETE", "/api/query-sets/zoo/categories/bat/exemplars/" + firstId, null);
            assertThat(removed.status()).as(removed.body()).isEqualTo(200);
            assertThat(h.get("/api/query-sets/zoo/categories/bat/exemplars/second/image").raw().body()).isEqualTo(jpeg);
            Reply deleted = h.write("DELETE", "/api/query-sets/zoo/categories/bat", null);
            assertThat(deleted.status()).isEqualTo(204);
            assertThat(h.get("/api/query-sets/zoo/categories/bat").status()).isEqualTo(404);
            assertThat(h.get("/api/query-sets/zoo").status()).isEqualTo(404);

            List<ConsumerRecord<String, ExemplarQuery>> records = h.records();
            assertThat(records).extracting(ConsumerRecord::key).containsExactly("zoo/bat", "zoo/bat", "zoo/bat", "zoo/bat", "zoo/bat");
            ExemplarQuery r1 = records.get(0).value();
            assertThat(r1.getQuerySetId()).isEqualTo("zoo");
            assertThat(r1.getCategoryId()).isEqualTo("bat");
            assertThat(r1.getLabel()).isEqualTo("bat");
            assertThat(r1.getRevision()).isEqualTo(1);
            assertThat(r1.getUpdatedBy()).isEqualTo("registry-token/test");
            assertThat(r1.getExemplars()).hasSize(1);
            assertThat(r1.getExemplars().get(0).getExemplarId()).isEqualTo(firstId);
            assertThat(bytes(r1.getExemplars().get(0).getImage().getData())).isEqualTo(png);
            assertThat(r1.getExemplars().get(0).getImage().getMediaType()).isEqualTo("image/png");
            assertThat(r1.getExemplars().get(0).getBox().getX1()).isEqualTo(4f);
            assertThat(r1.getExemplars().get(0).getBox().getY2()).isEqualTo(30f);

            ExemplarQuery r2 = records.get(1).value();
            assertThat(r2.getRevision()).isEqualTo(2);
            assertThat(r2.getExemplars()).extracting(e -> e.getExemplarId()).containsExactly(firstId, "second");
            assertThat(bytes(r2.getExemplars().get(1).getImage().getData())).isEqualTo(jpeg);
            assertThat(r2.getExemplars().get(1).getImage().getMediaType()).isEqualTo("image/jpeg");

            ExemplarQuery r3 = records.get(2).value();
            assertThat(r3.getRevision()).isEqualTo(3);
            assertThat(r3.getLabel()).isEqualTo("fruit bat");
            assertThat(r3.getExemplars()).hasSize(2);

            ExemplarQuery r4 = records.get(3).value();
            assertThat(r4.getRevision()).isEqualTo(4);
            assertThat(r4.getExemplars()).extracting(e -> e.getExemplarId()).containsExactly("second");
            assertThat(r4.getUpdatedAtMs()).isAfterOrEqualTo(r1.getUpdatedAtMs());

            assertThat(records.get(4).value()).as("tombstone").isNull();

            // A re-created category continues the revision sequence, so consumers see it as newer.
            Reply again = h.write("PUT", "/api/query-sets/zoo/categories/bat", category("bat", List.of()));
            assertThat(again.status()).isEqualTo(201);
            assertThat(again.json().get("revision").asLong()).isEqualTo(5);
        }
    }

    @Test
    void aCategorysOwnScoreThresholdIsSetKeptAcrossChangesAndRefusedOutsideZeroToOne(LocalStack stack) {
        byte[] png = TestImages.png(64, 48);
        try (RegistryHarness h = new RegistryHarness(stack)) {
            Map<String, Object> body = new java.util.HashMap<>(category("owl", List.of(exemplar(png, 4, 5, 40, 30))));
            body.put("scoreThreshold", 0.62);
            assertThat(h.write("PUT", "/api/query-sets/birds/categories/owl", body).status()).isEqualTo(201);
            assertThat(h.get("/api/query-sets/birds/categories/owl").json().get("scoreThreshold").asDouble()).isEqualTo(0.62, within(1e-6));

            Reply refused = h.write("PATCH", "/api/query-sets/birds/categories/owl", Map.of("scoreThreshold", 1.5));
            assertThat(refused.status()).isEqualTo(422);
            assertThat(refused.body()).contains("scoreThreshold").contains("from 0 to 1");
            body.put("scoreThreshold", "high");
            assertThat(h.write("PUT", "/api/query-sets/birds/categories/other", body).status()).isEqualTo(422);

            assertThat(h.write("PATCH", "/api/query-sets/birds/categories/owl", Map.of("label", "barn owl")).status()).isEqualTo(200);
            Map<String, Object> reset = new java.util.HashMap<>();
            reset.put("scoreThreshold", null);
            assertThat(h.write("PATCH", "/api/query-sets/birds/categories/owl", reset).status()).isEqualTo(200);

            List<ExemplarQuery> records = h.records().stream().map(ConsumerRecord::value).toList();
            assertThat(records).extracting(ExemplarQuery::getScoreThreshold).containsExactly(0.62f, 0.62f, null);
            assertThat(records.get(1).getLabel()).isEqualTo("barn owl");
        }
    }

    @Test
    void negativeExemplarsAreKeptApartRemovableKeptByPutAndLimited(LocalStack stack) {
        byte[] png = TestImages.png(64, 48);
        try (RegistryHarness h = new RegistryHarness(stack)) {
            String owl = "/api/query-sets/birds/categories/owl";
            assertThat(h.write("PUT", owl, category("owl", List.of(exemplar(png, 4, 5, 40, 30)))).status()).isEqualTo(201);
            Reply added = h.write("POST", owl + "/negatives", Map.of("exemplars", List.of(exemplar(png, 10, 10, 30, 30))));
            assertThat(added.status()).isEqualTo(201);
            String negativeId = added.json().at("/negatives/0/exemplarId").asText();
            assertThat(added.json().get("exemplars")).hasSize(1);
            assertThat(h.get(owl + "/negatives/" + negativeId + "/image").status()).isEqualTo(200);

            // a PUT replaces the category's label and exemplars, and keeps what feedback taught it
            assertThat(h.write("PUT", owl, category("barn owl", List.of(exemplar(png, 4, 5, 40, 30)))).status()).isEqualTo(200);
            assertThat(h.get(owl).json().get("negatives")).hasSize(1);

            List<Map<String, Object>> tooMany = java.util.Collections.nCopies(32, exemplar(png, 1, 1, 20, 20));
            Reply refused = h.write("POST", owl + "/negatives", Map.of("exemplars", tooMany));
            assertThat(refused.status()).isEqualTo(422);
            assertThat(refused.body()).contains("negatives").contains("limit of 32");

            assertThat(h.write("DELETE", owl + "/negatives/" + negativeId, null).status()).isEqualTo(200);
            List<ExemplarQuery> records = h.records().stream().map(ConsumerRecord::value).toList();
            assertThat(records).extracting(q -> q.getNegatives().size()).containsExactly(0, 1, 1, 0);
        }
    }

    @Test
    void createRenameAndDeleteQuerySet(LocalStack stack) {
        byte[] png = TestImages.png(32, 32);
        try (RegistryHarness h = new RegistryHarness(stack)) {
            Reply created = h.write("POST", "/api/query-sets", Map.of("id", "birds", "categories", List.of(
                    Map.of("categoryId", "owl", "label", "owl"),
                    Map.of("categoryId", "wren", "exemplars", List.of(exemplar(png, 0, 0, 16, 16))))));
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            assertThat(created.header("Location")).isEqualTo("/api/query-sets/birds");
            assertThat(h.write("POST", "/api/query-sets", Map.of("id", "birds", "categories", List.of(Map.of("categoryId", "x", "label", "x")))).status())
                    .as("creating an existing query set").isEqualTo(409);
            assertThat(h.write("POST", "/api/query-sets", Map.of("id", "empty", "categories", List.of())).status())
                    .as("a query set needs a category").isEqualTo(422);

            JsonNode list = h.get("/api/query-sets").json();
            assertThat(list.at("/querySets/0/querySetId").asText()).isEqualTo("birds");
            assertThat(list.at("/querySets/0/categories").asInt()).isEqualTo(2);

            Reply renamed = h.write("POST", "/api/query-sets/birds/rename", Map.of("newId", "aves"));
            assertThat(renamed.status()).as(renamed.body()).isEqualTo(200);
            assertThat(h.get("/api/query-sets/birds").status()).isEqualTo(404);
            JsonNode aves = h.get("/api/query-sets/aves").json();
            assertThat(aves.at("/categories/0/categoryId").asText()).isEqualTo("owl");
            assertThat(aves.at("/categories/1/categoryId").asText()).isEqualTo("wren");
            assertThat(aves.at("/categories/1/exemplars/0/box/x2").asDouble()).isEqualTo(16.0);

            Reply deleted = h.write("DELETE", "/api/query-sets/aves", null);
            assertThat(deleted.status()).isEqualTo(200);
            assertThat(deleted.json().get("deletedCategories").asInt()).isEqualTo(2);
            assertThat(h.get("/api/query-sets").json().get("querySets")).isEmpty();

            List<ConsumerRecord<String, ExemplarQuery>> records = h.records();
            assertThat(records).extracting(ConsumerRecord::key).containsExactly(
                    "birds/owl", "birds/wren",               // create: one transaction
                    "aves/owl", "aves/wren", "birds/owl", "birds/wren", // rename: new keys, then tombstones, one transaction
                    "aves/owl", "aves/wren");               // delete: tombstones
            assertThat(records).extracting(r -> r.value() == null).containsExactly(false, false, false, false, true, true, true, true);
            ExemplarQuery movedWren = records.get(3).value();
            assertThat(movedWren.getQuerySetId()).isEqualTo("aves");
            assertThat(movedWren.getCategoryId()).isEqualTo("wren");
            assertThat(movedWren.getLabel()).isNull();
            assertThat(movedWren.getRevision()).isEqualTo(2);
            assertThat(bytes(movedWren.getExemplars().get(0).getImage().getData())).isEqualTo(png);
            assertThat(movedWren.getExemplars().get(0).getExemplarId()).isEqualTo(records.get(1).value().getExemplars().get(0).getExemplarId());
        }
    }

    @Test
    void createOnlyPutAndMultipartUpload(LocalStack stack) throws Exception {
        byte[] png = TestImages.png(50, 40);
        try (RegistryHarness h = new RegistryHarness(stack)) {
            assertThat(h.send("PUT", "/api/query-sets/s/categories/c", category("cat", List.of()), RegistryHarness.TOKEN,
                    Map.of("If-None-Match", "*")).status()).isEqualTo(201);
            Reply second = h.send("PUT", "/api/query-sets/s/categories/c", category("dog", List.of()), RegistryHarness.TOKEN,
                    Map.of("If-None-Match", "*"));
            assertThat(second.status()).isEqualTo(412);
            assertThat(second.header("Content-Type")).startsWith("application/problem+json");

            String boundary = "----mqdet" + System.nanoTime();
            java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
            String head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"label\"\r\n\r\ntabby cat\r\n"
                    + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n";
            body.write(head.getBytes());
            body.write(png);
            body.write(("\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"box\"\r\n\r\n2,3,30,20\r\n--" + boundary + "--\r\n").getBytes());
            Reply multipart = h.send("PUT", "/api/query-sets/s/categories/c", body.toByteArray(), RegistryHarness.TOKEN,
                    Map.of("Content-Type", "multipart/form-data; boundary=" + boundary));
            assertThat(multipart.status()).as(multipart.body()).isEqualTo(200);

            List<ConsumerRecord<String, ExemplarQuery>> records = h.records();
            assertThat(records).hasSize(2);
            ExemplarQuery replaced = records.get(1).value();
            assertThat(replaced.getLabel()).isEqualTo("tabby cat");
            assertThat(replaced.getRevision()).isEqualTo(2);
            assertThat(bytes(replaced.getExemplars().get(0).getImage().getData())).isEqualTo(png);
            assertThat(replaced.getExemplars().get(0).getBox().getX2()).isEqualTo(30f);
        }
    }

    static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
