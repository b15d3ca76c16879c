package dev.mqdet.registry;

import static dev.mqdet.registry.RegistryHarness.category;
import static dev.mqdet.registry.RegistryHarness.exemplar;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mqdet.registry.RegistryHarness.Reply;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every refused request answers an RFC 7807 problem naming the field, and writes nothing: the topic's end offset
 * (which even an aborted transaction's marker would move) stays where it was.
 */
@ExtendWith(LocalStackExtension.class)
class ValidationTest {

    private static final String CAT = "/api/query-sets/qs/categories/cat";

    @Test
    void invalidRequestsAreRefusedWithFieldErrorsAndWriteNothing(LocalStack stack) {
        byte[] png = TestImages.png(100, 80);
        Map<String, String> limits = Map.of("registry.max.exemplars.per.category", "3", "registry.max.categories.per.query.set", "2",
                "registry.max.label.length", "20", "registry.max.image.bytes", "200000", "registry.max.image.pixels", "1000000",
                "registry.max.request.bytes", "1000000");
        try (RegistryHarness h = new RegistryHarness(stack, limits)) {
            assertThat(h.write("PUT", "/api/query-sets/qs/categories/existing", category("ok", List.of())).status()).isEqualTo(201);

            refused(h, "PUT", "/api/query-sets/q%20s/categories/cat", category("x", List.of()), 422, "querySetId", "not a valid id");
            refused(h, "PUT", "/api/query-sets/qs/categories/..", category("x", List.of()), 422, "categoryId", "not a valid id");
            refused(h, "PUT", "/api/query-sets/qs/categories/" + "a".repeat(129), category("x", List.of()), 422, "categoryId", "not a valid id");
            refused(h, "PUT", CAT, category("x".repeat(21), List.of()), 422, "label", "at most 20");
            refused(h, "PUT", CAT, category("two\nlines", List.of()), 422, "label", "control characters");
            refused(h, "PUT", CAT, category("   ", List.of()), 422, "label", "blank");
            refused(h, "PUT", CAT, category(null, List.of()), 422, "label", "needs a label, exemplars, or both");
            refused(h, "PUT", CAT, category("x", List.of(exemplar(png, 1, 1, 9, 9), exemplar(png, 1, 1, 9, 9), exemplar(png, 1, 1, 9, 9),
                    exemplar(png, 1, 1, 9, 9))), 422, "exemplars", "at most 3");
            refused(h, "PUT", CAT, category("x", List.of(exemplar(png, 10, 10, 101, 50))), 422, "exemplars[0].box", "not inside the 100x80 image");
            refused(h, "PUT", CAT, category("x", List.of(exemplar(png, -1, 10, 50, 50))), 422, "exemplars[0].box", "not inside");
            refused(h, "PUT", CAT, category("x", List.of(exemplar(png, 50, 10, 50, 50))), 422, "exemplars[0].box", "is empty");
            refused(h, "PUT", CAT, category("x", List.of(exemplar(png, 60, 10, 50, 50))), 422, "exemplars[0].box", "is empty");
            refused(h, "PUT", CAT, category("x", List.of(exemplar("GIF89a not really".getBytes(), 0, 0, 1, 1))), 422, "exemplars[0].image", "neither JPEG nor PNG");
            refused(h, "PUT", CAT, category("x", List.of(exemplar(TestImages.encode("bmp", 10, 10, java.awt.Color.RED), 0, 0, 1, 1))), 422,
                    "exemplars[0].image", "neither JPEG nor PNG");
            refused(h, "PUT", CAT, category("x", List.of(exemplar(TestImages.truncated(png), 0, 0, 1, 1))), 422, "exemplars[0].image", "");
            refused(h, "PUT", CAT, category("x", List.of(exemplar(TestImages.truncated(TestImages.jpeg(200, 200)), 0, 0, 1, 1))), 422,
                    "exemplars[0].image", "");
            // 2000 x 2000 claimed by a header with no pixel data: refused for its size, so it was never decoded.
            refused(h, "PUT", CAT, category("x", List.of(exemplar(TestImages.pngHeaderOnly(2000, 2000), 0, 0, 1, 1))), 422,
                    "exemplars[0].image", "4000000 pixels; at most 1000000");
            refused(h, "PUT", CAT, category("x", List.of(exemplar(TestImages.png(1200, 900), 0, 0, 1, 1))), 422, "exemplars[0].image", "pixels");
            refused(h, "PUT", CAT, category("x", List.of(exemplar(new byte[200_001], 0, 0, 1, 1))), 422, "exemplars[0].image", "at most 200000");

            Map<String, Object> mismatch = exemplar(png, 0, 0, 10, 10);
            mismatch.put("image", Map.of("data", Base64.getEncoder().encodeToString(png), "mediaType", "image/jpeg"));
            refused(h, "PUT", CAT, category("x", List.of(mismatch)), 422, "exemplars[0].image", "does not match the bytes");
            Map<String, Object> noBox = new HashMap<>(exemplar(png, 0, 0, 10, 10));
            noBox.put("box", Map.of("x1", 0, "y1", 0, "x2", "ten", "y2", 10));
            refused(h, "PUT", CAT, category("x", List.of(noBox)), 422, "exemplars[0].box.x2", "must be a number");
            Map<String, Object> badB64 = new HashMap<>(exemplar(png, 0, 0, 10, 10));
            badB64.put("image", Map.of("data", "@@@not base64@@@"));
            refused(h, "PUT", CAT, category("x", List.of(badB64)), 422, "exemplars[0].image.data", "base64");
            refused(h, "PUT", CAT, Map.of("label", 42), 422, "label", "must be a string");

            // Every error of a request is reported at once.
            Reply several = h.write("PUT", CAT, category("x".repeat(30), List.of(exemplar(png, 0, 0, 500, 10), exemplar(png, 5, 5, 5, 5))));
            assertThat(several.json().get("errors")).extracting(e -> e.get("field").asText())
                    .containsExactly("label", "exemplars[0].box", "exemplars[1].box");

            // Limits that depend on what is stored: categories per query set and exemplars per category.
            assertThat(h.write("PUT", "/api/query-sets/qs/categories/second", category("ok", List.of())).status()).isEqualTo(201);
            refused(h, "PUT", "/api/query-sets/qs/categories/third", category("x", List.of()), 422, "categoryId", "at most 2");
            assertThat(h.write("PUT", "/api/query-sets/qs/categories/second", category("ok", List.of(exemplar(png, 0, 0, 5, 5),
                    exemplar(png, 0, 0, 5, 5), exemplar(png, 0, 0, 5, 5)))).status()).isEqualTo(200);
            long afterThree = h.endOffset();
            refused(h, "POST", "/api/query-sets/qs/categories/second/exemplars", Map.of("exemplars", List.of(exemplar(png, 0, 0, 5, 5))),
                    422, "exemplars", "exceed the limit of 3");
            refused(h, "POST", "/api/query-sets/qs/categories/missing/exemplars", Map.of("exemplars", List.of(exemplar(png, 0, 0, 5, 5))),
                    404, null, null);
            refused(h, "DELETE", "/api/query-sets/qs/categories/second/exemplars/nope", null, 404, null, null);
            refused(h, "PATCH", "/api/query-sets/qs/categories/existing", Map.of("label", "x".repeat(21)), 422, "label", "at most 20");
            refused(h, "POST", "/api/query-sets/qs/rename", Map.of("newId", "bad/id"), 422, "newId", "not a valid id");
            refused(h, "POST", "/api/query-sets/qs/rename", Map.of("newId", "qs"), 422, "newId", "current id");

            // Bodies that are not JSON objects, or too large.
            refused(h, "PUT", CAT, "{not json", 400, null, null);
            refused(h, "PUT", CAT, "[1, 2]", 400, null, null);
            refused(h, "PUT", CAT, "x".repeat(1_000_001), 413, null, null);

            assertThat(h.endOffset()).as("nothing written by refused requests").isEqualTo(afterThree);
            assertThat(h.records()).extracting(r -> r.key()).containsExactly("qs/existing", "qs/second", "qs/second");
        }
    }

    @Test
    void recordLargerThanTheTopicAllowsIsRefusedWithoutWriting(LocalStack stack) {
        // Images fit the per-image limit, but together they exceed the record limit the producer and topic enforce.
        try (RegistryHarness h = new RegistryHarness(stack, Map.of("registry.max.record.bytes", "60000"))) {
            List<Map<String, Object>> exemplars = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                exemplars.add(exemplar(noisyPng(120, 120, i), 0, 0, 10, 10));
            }
            Reply r = h.write("PUT", CAT, category("big", exemplars));
            assertThat(r.status()).as(r.body()).isEqualTo(413);
            assertThat(r.json().get("detail").asText()).contains("larger than the topic accepts");
            assertThat(h.records("read_uncommitted")).as("no data record, committed or not").isEmpty();
            assertThat(h.get("/api/query-sets/qs").status()).isEqualTo(404);
            // The producer is usable afterwards.
            assertThat(h.write("PUT", CAT, category("small", List.of())).status()).isEqualTo(201);
            assertThat(h.records()).hasSize(1);
        }
    }

    /** A PNG that does not compress: random pixels. */
    private static byte[] noisyPng(int w, int h, int seed) {
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(w, h, java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.util.Random random = new java.util.Random(seed);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, random.nextInt());
            }
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try {
            javax.imageio.ImageIO.write(img, "png", out);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void refused(RegistryHarness h, String method, String path, Object body, int status, String field, String message) {
        long before = h.endOffset();
        Reply r = h.write(method, path, body);
        assertThat(r.status()).as("%s %s -> %s", method, path, r.body()).isEqualTo(status);
        assertThat(r.header("Content-Type")).startsWith("application/problem+json");
        JsonNode problem = r.json();
        assertThat(problem.get("status").asInt()).isEqualTo(status);
        assertThat(problem.get("title").asText()).isNotBlank();
        assertThat(problem.get("instance").asText()).isNotBlank();
        if (field != null) {
            assertThat(problem.get("errors")).as(r.body()).anySatisfy(e -> {
                assertThat(e.get("field").asText()).isEqualTo(field);
                assertThat(e.get("message").asText()).contains(message);
            });
        }
        assertThat(h.endOffset()).as("%s %s wrote nothing", method, path).isEqualTo(before);
    }
}
