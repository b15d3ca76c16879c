package dev.mqdet.schemaregistry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.testkit.ApicurioRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TLS against a real registry serving HTTPS, and HTTP basic auth as the client sends it. */
class RegistryClientSecurityTest {

    private static final String PASSWORD = "changeit";

    @Test
    void talksTlsToARegistryWithASelfSignedCertificateGivenATrustStore(@TempDir Path dir) throws Exception {
        Path keyStore = dir.resolve("server.p12");
        Path trustStore = dir.resolve("trust.p12");
        keytool("-genkeypair", "-alias", "registry", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1,dns:localhost",
                "-keystore", keyStore.toString(), "-storetype", "PKCS12", "-storepass", PASSWORD, "-keypass", PASSWORD);
        keytool("-exportcert", "-rfc", "-alias", "registry", "-keystore", keyStore.toString(), "-storepass", PASSWORD,
                "-file", dir.resolve("server.pem").toString());
        keytool("-importcert", "-noprompt", "-alias", "registry", "-file", dir.resolve("server.pem").toString(),
                "-keystore", trustStore.toString(), "-storetype", "PKCS12", "-storepass", PASSWORD);

        int httpsPort = ApicurioRegistry.freePort();
        try (ApicurioRegistry registry = ApicurioRegistry.launch(dir.resolve("registry"), Map.of(
                "quarkus.http.ssl-port", Integer.toString(httpsPort),
                "quarkus.http.ssl.certificate.key-store-file", keyStore.toString(),
                "quarkus.http.ssl.certificate.key-store-password", PASSWORD)).awaitReady()) {
            String httpsUrl = "https://127.0.0.1:" + httpsPort + ApicurioRegistry.CCOMPAT_PATH;

            RestSchemaRegistryClient trusting = new RestSchemaRegistryClient(Map.of(
                    SchemaRegistryClientConfig.URL, httpsUrl,
                    SchemaRegistryClientConfig.SSL_TRUSTSTORE_LOCATION, trustStore.toString(),
                    SchemaRegistryClientConfig.SSL_TRUSTSTORE_PASSWORD, PASSWORD));
            int id = trusting.register("tls-value", ImageEvent.getClassSchema());
            assertThat(new RestSchemaRegistryClient(Map.of(SchemaRegistryClientConfig.URL, httpsUrl,
                    SchemaRegistryClientConfig.SSL_TRUSTSTORE_LOCATION, trustStore.toString(),
                    SchemaRegistryClientConfig.SSL_TRUSTSTORE_PASSWORD, PASSWORD)).schemaById(id))
                    .isEqualTo(ImageEvent.getClassSchema());

            RestSchemaRegistryClient untrusting = new RestSchemaRegistryClient(Map.of(SchemaRegistryClientConfig.URL, httpsUrl));
            assertThatThrownBy(() -> untrusting.schemaById(id))
                    .isExactlyInstanceOf(SchemaRegistryException.class)
                    .hasMessageContaining("TLS with the schema registry at https://127.0.0.1:" + httpsPort)
                    .hasMessageContaining("schema.registry.ssl.truststore");
        }
    }

    @Test
    void sendsBasicAuthFromUserInfoOrUrlAndReportsRefusal() throws Exception {
        List<String> authorizations = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        String expected = "Basic " + java.util.Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8));
        server.createContext("/schemas/ids/1", exchange -> {
            String authorization = exchange.getRequestHeaders().getFirst("Authorization");
            authorizations.add(String.valueOf(authorization));
            boolean ok = expected.equals(authorization);
            byte[] body = (ok ? "{\"schema\":\"\\\"string\\\"\"}" : "{\"error_code\":401,\"message\":\"Unauthorized\"}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(ok ? 200 : 401, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort();
            RestSchemaRegistryClient userInfo = new RestSchemaRegistryClient(Map.of(SchemaRegistryClientConfig.URL, url,
                    SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO",
                    SchemaRegistryClientConfig.BASIC_AUTH_USER_INFO, "alice:s3cret"));
            assertThat(userInfo.schemaById(1).getType()).isEqualTo(org.apache.avro.Schema.Type.STRING);

            RestSchemaRegistryClient inUrl = new RestSchemaRegistryClient(Map.of(
                    SchemaRegistryClientConfig.URL, "http://alice:s3cret@127.0.0.1:" + server.getAddress().getPort(),
                    SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "URL"));
            assertThat(inUrl.schemaById(1).getType()).isEqualTo(org.apache.avro.Schema.Type.STRING);
            assertThat(inUrl.url()).doesNotContain("s3cret");

            RestSchemaRegistryClient wrong = new RestSchemaRegistryClient(Map.of(SchemaRegistryClientConfig.URL, url,
                    SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO",
                    SchemaRegistryClientConfig.BASIC_AUTH_USER_INFO, "alice:wrong"));
            assertThatThrownBy(() -> wrong.schemaById(1))
                    .isInstanceOf(SchemaRegistryException.class)
                    .hasMessageContaining("not authorised (HTTP 401)")
                    .satisfies(e -> assertThat(((SchemaRegistryException) e).status()).isEqualTo(401));
            assertThat(authorizations).containsExactly(expected, expected,
                    "Basic " + java.util.Base64.getEncoder().encodeToString("alice:wrong".getBytes(StandardCharsets.UTF_8)));
        } finally {
            server.stop(0);
        }
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        List<String> command = new java.util.ArrayList<>(List.of(keytool.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("keytool %s: %s", args[0], output).isZero();
    }
}
