package dev.mqdet.streams.detect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.mqdet.streams.detect.ImageSource.ImageFetchException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image-URI rules, each against the real file system or a real HTTP server: canonical form before the allow
 * check, encoded and double-encoded traversal, symbolic links, prefix boundaries of hosts, ports and paths, the HTTP
 * deadline and byte cap, redirects, and that no fetched byte reaches an error message.
 */
class ImageSourceTest {

    private static final String SECRET = "root:x:0:0:secret-content";
    private static final byte[] IMAGE = {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3, 4};

    @TempDir
    Path dir;
    Path root;
    String rootUri;
    HttpServer server;
    final AtomicInteger redirectTargetHits = new AtomicInteger();

    @BeforeEach
    void files() throws IOException {
        root = Files.createDirectories(dir.resolve("images"));
        rootUri = "file:" + root + "/";
        Files.write(root.resolve("a.png"), IMAGE);
        Files.writeString(dir.resolve("secret.txt"), SECRET);
        Files.createDirectories(dir.resolve("images-private"));
        Files.writeString(dir.resolve("images-private/b.png"), SECRET);
    }

    @AfterEach
    void stopServer() {
        if (server != null) {
            server.stop(0);
        }
    }

    private ImageSource files(int maxBytes) {
        return new ImageSource(List.of(rootUri), maxBytes);
    }

    private static void assertRefused(ImageSource source, String uri, String reason) {
        assertThatThrownBy(() -> source.fetch(uri)).as(uri)
                .isExactlyInstanceOf(ImageFetchException.class)
                .hasMessageContaining(reason)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(SECRET).doesNotContain("secret-content"));
    }

    @Test
    void aFileUnderTheRootIsRead() {
        assertThat(files(1024).fetch(rootUri + "a.png")).isEqualTo(IMAGE);
        assertThat(files(1024).fetch("file://" + root + "/./a.png")).isEqualTo(IMAGE); // file:/// form, '.' segment
    }

    @Test
    void percentEncodedDotsCannotLeaveTheRoot() {
        assertRefused(files(1024), rootUri + "%2e%2e/secret.txt", "'..'");
        assertRefused(files(1024), rootUri + "%2E%2E/secret.txt", "'..'");
        assertRefused(files(1024), rootUri + "../secret.txt", "'..'");
        assertRefused(files(1024), rootUri + "sub/%2e%2e/%2e%2e/secret.txt", "'..'");
    }

    @Test
    void encodedSlashesAndDoubleEncodingAreRefused() {
        assertRefused(files(1024), rootUri + "..%2Fsecret.txt", "encoded '/'");
        assertRefused(files(1024), rootUri + "%2e%2e%2fsecret.txt", "encoded '/'");
        assertRefused(files(1024), rootUri + "..%5Csecret.txt", "encoded '/' or '\\'");
        assertRefused(files(1024), rootUri + "%252e%252e/secret.txt", "double encoding");
        assertRefused(files(1024), rootUri + "a%00.png", "control characters");
    }

    @Test
    void aSymbolicLinkOutOfTheRootIsRefusedAndOneInsideIsFollowed() throws IOException {
        Files.createSymbolicLink(root.resolve("escape.png"), dir.resolve("secret.txt"));
        Files.createSymbolicLink(root.resolve("alias.png"), root.resolve("a.png"));
        Files.createSymbolicLink(root.resolve("outside"), dir);
        assertRefused(files(1024), rootUri + "escape.png", "outside every allowed root");
        assertRefused(files(1024), rootUri + "outside/secret.txt", "outside every allowed root");
        assertThat(files(1024).fetch(rootUri + "alias.png")).isEqualTo(IMAGE);
    }

    @Test
    void aPathPrefixMatchesWholeSegmentsOnly() {
        ImageSource noSlash = new ImageSource(List.of("file:" + root), 1024); // configured without the trailing slash
        assertThat(noSlash.fetch(rootUri + "a.png")).isEqualTo(IMAGE);
        assertRefused(noSlash, "file:" + dir + "/images-private/b.png", "not under an allowed prefix");
    }

    @Test
    void aFileUriWithQueryFragmentOrHostIsRefusedWithATypedError() {
        assertRefused(files(1024), rootUri + "a.png?x=1", "query or fragment");
        assertRefused(files(1024), rootUri + "a.png#frag", "query or fragment");
        assertRefused(files(1024), "file://evil.example" + root + "/a.png", "names a host");
    }

    @Test
    void missingOversizeAndNonRegularFilesAreRefusedWithoutTheirContent() throws IOException {
        Files.writeString(root.resolve("big.png"), SECRET.repeat(10));
        assertRefused(files(16), rootUri + "big.png", "larger than the limit of 16 bytes");
        assertRefused(files(1024), rootUri + "nope.png", "does not exist");
        Files.createDirectories(root.resolve("folder"));
        assertRefused(files(1024), rootUri + "folder", "not a regular file");
    }

    @Test
    void everyMalformedUriIsAnImageFetchException() {
        ImageSource source = new ImageSource(List.of(rootUri, "https://img.example.com/"), 1024);
        for (String uri : List.of("", "   ", "::", "file:", "file:a.png", "http://", "http://[::1", "file:/%",
                rootUri + "%zz.png", "https://img.example.com:99999/a.png", "mailto:x@example.com", "ftp://img.example.com/a.png",
                "jar:file:/x.jar!/a.png", "https://user:pw@img.example.com/a.png", "https://img.example.com/" + "a".repeat(10_000))) {
            assertThatThrownBy(() -> source.fetch(uri)).as(uri).isExactlyInstanceOf(ImageFetchException.class);
        }
    }

    @Test
    void hostsAndPortsMatchExactly() {
        AllowedLocations allowed = AllowedLocations.of(List.of("https://img.example.com"));
        assertThat(allowed.check("https://img.example.com/cam/1.png").toString()).isEqualTo("https://img.example.com:443/cam/1.png");
        assertThat(allowed.check("HTTPS://IMG.Example.COM:443/a.png").host()).isEqualTo("img.example.com");
        ImageSource source = new ImageSource(List.of("https://img.example.com"), 1024);
        assertRefused(source, "https://img.example.com.evil.net/a.png", "not under an allowed prefix");
        assertRefused(source, "https://img.example.com@evil.net/a.png", "user info");
        assertRefused(source, "https://img.example.com:8443/a.png", "not under an allowed prefix");
        assertRefused(source, "http://img.example.com/a.png", "not under an allowed prefix");
        assertRefused(source, "https://evil.net/https://img.example.com/a.png", "not under an allowed prefix");
    }

    @Test
    void anUnusableAllowedPrefixIsAConfigurationError() {
        assertThatThrownBy(() -> new ImageSource(List.of("ftp://x/"), 10)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ftp://x/");
        assertThatThrownBy(() -> new ImageSource(List.of("https://x/?a=b"), 10)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("query");
    }

    // ---- HTTP, against a real JDK HttpServer on 127.0.0.1 ----

    private String startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/ok.png", exchange -> {
            exchange.sendResponseHeaders(200, IMAGE.length);
            exchange.getResponseBody().write(IMAGE);
            exchange.close();
        });
        server.createContext("/slow.png", exchange -> {
            exchange.sendResponseHeaders(200, 0); // chunked
            try (OutputStream out = exchange.getResponseBody()) {
                for (int i = 0; i < 300; i++) { // 30 s of one byte every 100 ms
                    out.write(1);
                    out.flush();
                    Thread.sleep(100);
                }
            } catch (IOException | InterruptedException gone) {
                // the client gave up, as it should
            }
        });
        server.createContext("/big-declared.png", exchange -> {
            exchange.sendResponseHeaders(200, 10_000);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(new byte[10_000]);
            } catch (IOException gone) {
                // the client refused the body
            }
        });
        server.createContext("/big-chunked.png", exchange -> {
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody()) {
                for (int i = 0; i < 100; i++) {
                    out.write(SECRET.getBytes(StandardCharsets.UTF_8));
                }
            } catch (IOException gone) {
                // the client stopped reading
            }
        });
        server.createContext("/moved.png", exchange -> {
            exchange.getResponseHeaders().add("Location", "/ok-target.png");
            exchange.sendResponseHeaders(302, -1);
            exchange.close();
        });
        server.createContext("/ok-target.png", exchange -> {
            redirectTargetHits.incrementAndGet();
            exchange.sendResponseHeaders(200, IMAGE.length);
            exchange.getResponseBody().write(IMAGE);
            exchange.close();
        });
        server.createContext("/missing.png", exchange -> {
            byte[] body = SECRET.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(404, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Test
    void anAllowedHttpImageIsFetched() throws IOException {
        String base = startServer();
        assertThat(new ImageSource(List.of(base + "/"), 1024).fetch(base + "/ok.png")).isEqualTo(IMAGE);
        assertThat(new ImageSource(List.of(base), 1024).fetch(base + "/x/../ok.png".replace("/x/..", ""))).isEqualTo(IMAGE);
    }

    @Test
    void aSlowServerHitsTheOverallDeadline() throws IOException {
        String base = startServer();
        ImageSource source = new ImageSource(List.of(base + "/"), 1 << 20, Duration.ofMillis(1_000));
        long started = System.nanoTime();
        assertRefused(source, base + "/slow.png", "did not finish within 1000 ms");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void anOversizeBodyIsCutOff() throws IOException {
        String base = startServer();
        ImageSource source = new ImageSource(List.of(base + "/"), 1_000, Duration.ofSeconds(5));
        assertRefused(source, base + "/big-declared.png", "declares 10000 bytes");
        assertRefused(source, base + "/big-chunked.png", "larger than the limit of 1000 bytes");
    }

    @Test
    void aRedirectIsRefusedAndNotFollowed() throws IOException {
        String base = startServer();
        assertRefused(new ImageSource(List.of(base + "/"), 1024), base + "/moved.png", "HTTP 302");
        assertThat(redirectTargetHits).hasValue(0);
    }

    @Test
    void anErrorStatusIsRefusedWithoutItsBody() throws IOException {
        String base = startServer();
        assertRefused(new ImageSource(List.of(base + "/"), 1024), base + "/missing.png", "answered HTTP 404");
    }

    @Test
    void aPortOtherThanTheAllowedOneIsRefused() throws IOException {
        String base = startServer();
        int port = server.getAddress().getPort();
        ImageSource otherPort = new ImageSource(List.of("http://127.0.0.1:" + (port == 65535 ? port - 1 : port + 1)), 1024);
        assertRefused(otherPort, base + "/ok.png", "not under an allowed prefix");
        ImageSource shorterPort = new ImageSource(List.of("http://127.0.0.1:" + String.valueOf(port).substring(0, 4)), 1024);
        assertRefused(shorterPort, base + "/ok.png", "not under an allowed prefix"); // "...:1234" is a string prefix of "...:12345"
    }
}
