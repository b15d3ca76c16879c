package dev.mqdet.registry;

import static dev.mqdet.registry.RegistryHarness.category;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.registry.RegistryHarness.Reply;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Bearer tokens, optional read protection, CORS only when configured, security headers, size limits, no path traversal. */
@ExtendWith(LocalStackExtension.class)
class SecurityTest {

    private static final String CAT = "/api/query-sets/s/categories/c";

    @Test
    void writesNeedTheTokenAndRefusedWritesWriteNothing(LocalStack stack) {
        try (RegistryHarness h = new RegistryHarness(stack)) {
            long before = h.endOffset();
            Reply missing = h.send("PUT", CAT, category("x", List.of()), null, Map.of());
            assertThat(missing.status()).isEqualTo(401);
            assertThat(missing.header("WWW-Authenticate")).startsWith("Bearer realm=");
            assertThat(missing.header("Content-Type")).startsWith("application/problem+json");
            Reply wrong = h.send("PUT", CAT, category("x", List.of()), RegistryHarness.TOKEN + "x", Map.of());
            assertThat(wrong.status()).isEqualTo(401);
            assertThat(wrong.header("WWW-Authenticate")).contains("invalid_token");
            assertThat(h.send("PUT", CAT, category("x", List.of()), "", Map.of("Authorization", "Basic dXNlcjpwYXNz")).status()).isEqualTo(401);
            assertThat(h.send("DELETE", "/api/query-sets/s", null, "nope", Map.of()).status()).isEqualTo(401);
            assertThat(h.send("POST", "/api/query-sets/s/rename", Map.of("newId", "t"), null, Map.of()).status()).isEqualTo(401);
            assertThat(h.endOffset()).isEqualTo(before);
            assertThat(h.records()).isEmpty();

            // Reads are open by default; writes with the token work.
            assertThat(h.get("/api/query-sets").status()).isEqualTo(200);
            assertThat(h.write("PUT", CAT, category("x", List.of())).status()).isEqualTo(201);
        }
    }

    @Test
    void readsNeedATokenWhenConfiguredAndTheReadTokenCannotWrite(LocalStack stack) {
        String readToken = "test-read-token-abcdefghijkl";
        try (RegistryHarness h = new RegistryHarness(stack, Map.of("registry.auth.reads", "true", "registry.read.token", readToken))) {
            assertThat(h.write("PUT", CAT, category("x", List.of())).status()).isEqualTo(201);
            assertThat(h.get("/api/query-sets").status()).isEqualTo(401);
            assertThat(h.get(CAT).status()).isEqualTo(401);
            assertThat(h.send("GET", CAT, null, readToken, Map.of()).status()).isEqualTo(200);
            assertThat(h.send("GET", CAT, null, RegistryHarness.TOKEN, Map.of()).status()).isEqualTo(200);
            Reply readTokenWrite = h.send("DELETE", CAT, null, readToken, Map.of());
            assertThat(readTokenWrite.status()).isEqualTo(403);
            assertThat(h.records()).hasSize(1);
            // The page and the API description hold no data and stay public.
            assertThat(h.get("/").status()).isEqualTo(200);
            assertThat(h.get("/openapi.yaml").status()).isEqualTo(200);
        }
    }

    @Test
    void corsIsOffUnlessConfigured(LocalStack stack) {
        try (RegistryHarness h = new RegistryHarness(stack)) {
            Reply r = h.send("GET", "/api/query-sets", null, null, Map.of("Origin", "https://evil.example"));
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Access-Control-Allow-Origin")).isNull();
        }
        try (RegistryHarness h = new RegistryHarness(stack, Map.of("registry.cors.origins", "https://ops.example"))) {
            Reply allowed = h.send("GET", "/api/query-sets", null, null, Map.of("Origin", "https://ops.example"));
            assertThat(allowed.header("Access-Control-Allow-Origin")).isEqualTo("https://ops.example");
            Reply other = h.send("GET", "/api/query-sets", null, null, Map.of("Origin", "https://evil.example"));
            assertThat(other.header("Access-Control-Allow-Origin")).isNull();
        }
    }

    @Test
    void securityHeadersLimitsAndNoPathTraversal(LocalStack stack) throws Exception {
        try (RegistryHarness h = new RegistryHarness(stack, Map.of("registry.max.request.bytes", "10000"))) {
            Reply page = h.get("/");
            assertThat(page.status()).isEqualTo(200);
            assertThat(page.header("Content-Security-Policy")).contains("default-src 'self'").contains("frame-ancestors 'none'");
            assertThat(page.header("X-Content-Type-Options")).isEqualTo("nosniff");
            assertThat(h.get("/api/query-sets").header("X-Content-Type-Options")).isEqualTo("nosniff");

            Reply tooLarge = h.write("PUT", CAT, "{\"label\": \"" + "x".repeat(20_000) + "\"}");
            assertThat(tooLarge.status()).isEqualTo(413);
            assertThat(tooLarge.header("Content-Type")).startsWith("application/problem+json");

            for (String path : List.of("/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd",
                    "/api/query-sets/..%2f..%2fetc/categories/passwd", "/dev/mqdet/registry/RegistryMain.class", "/log4j2.xml",
                    "/%2e%2e/exemplar-registry/pom.xml", "/web/../openapi.yaml/../../log4j2.xml")) {
                String response = rawGet(h.server.port(), path);
                String status = response.lines().findFirst().orElse("");
                assertThat(status).as(path).doesNotContain(" 200 ");
                assertThat(response).as(path).doesNotContain("root:").doesNotContain("<Configuration").doesNotContain("<project");
            }
        }
    }

    /** A GET with the path sent exactly as given (HTTP clients would normalise it). */
    private static String rawGet(int port, String path) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
