package dev.mqdet.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.mqdet.registry.RegistryHarness.Reply;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The served OpenAPI description is valid YAML, OpenAPI 3, and documents exactly the routes the service registers. */
@ExtendWith(LocalStackExtension.class)
class OpenApiTest {

    @Test
    void openApiDescribesEveryRoute(LocalStack stack) throws Exception {
        try (RegistryHarness h = new RegistryHarness(stack, Map.of("registry.live.enabled", "true"))) {
            Reply reply = h.get("/openapi.yaml");
            assertThat(reply.status()).isEqualTo(200);
            assertThat(reply.header("Content-Type")).startsWith("application/yaml");
            JsonNode doc = new ObjectMapper(new YAMLFactory()).readTree(reply.body());
            assertThat(doc.get("openapi").asText()).startsWith("3.");

            List<String> documented = new ArrayList<>();
            for (Map.Entry<String, JsonNode> path : doc.get("paths").properties()) {
                path.getValue().fieldNames().forEachRemaining(method -> {
                    if (!method.equals("parameters")) {
                        documented.add(method.toUpperCase(Locale.ROOT) + " " + path.getKey());
                    }
                });
            }
            List<String> served = h.server.routes().stream().filter(r -> !r.startsWith("BEFORE") && !r.startsWith("AFTER")).toList();
            assertThat(served).isNotEmpty();
            assertThat(documented).containsExactlyInAnyOrderElementsOf(served);

            // Every $ref points at something that exists.
            List<String> refs = new ArrayList<>();
            collectRefs(doc, refs);
            assertThat(refs).isNotEmpty();
            for (String ref : refs) {
                assertThat(doc.at(ref.substring(1)).isMissingNode()).as(ref).isFalse();
            }
        }
    }

    private static void collectRefs(JsonNode node, List<String> refs) {
        if (node.isObject()) {
            node.properties().forEach(e -> {
                if (e.getKey().equals("$ref")) {
                    refs.add(e.getValue().asText());
                } else {
                    collectRefs(e.getValue(), refs);
                }
            });
        } else if (node.isArray()) {
            node.forEach(n -> collectRefs(n, refs));
        }
    }
}
