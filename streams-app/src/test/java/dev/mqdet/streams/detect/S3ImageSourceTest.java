package dev.mqdet.streams.detect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mqdet.streams.detect.ImageSource.ImageFetchException;
import dev.mqdet.testkit.ApicurioRegistry;
import dev.mqdet.testkit.LocalS3;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The {@code s3://bucket/key} rules, in {@link ImageSourceTest}'s style: canonical form before the allow check
 * (encoded {@code ..}, bucket and key prefixes at a segment boundary, no query, fragment or port), then fetches from a
 * real S3-compatible server ({@link LocalS3}): an allowed object is read, a missing key or bucket, an object over the
 * cap and an unreachable endpoint are {@link ImageFetchException}s that never quote the object's bytes.
 */
class S3ImageSourceTest {

    private static final String SECRET = "secret-content-of-the-object";
    private static final byte[] IMAGE = {(byte) 0x89, 'P', 'N', 'G', 5, 6, 7, 8};

    static LocalS3 s3;
    static S3Settings settings;

    @BeforeAll
    static void startS3() throws Exception {
        s3 = LocalS3.start(Files.createTempDirectory("mqdet-s3-unit"), "imgs");
        settings = new S3Settings("us-east-1", s3.endpoint(), true, "key", "secret");
        try (S3Client client = settings.client(Duration.ofSeconds(20))) {
            client.putObject(b -> b.bucket("imgs").key("cam/a.png"), RequestBody.fromBytes(IMAGE));
            client.putObject(b -> b.bucket("imgs").key("cam/big.png"), RequestBody.fromString(SECRET.repeat(10)));
            client.putObject(b -> b.bucket("imgs").key("cam/with space.png"), RequestBody.fromBytes(IMAGE));
            client.putObject(b -> b.bucket("imgs").key("camera-private/b.png"), RequestBody.fromString(SECRET));
        }
    }

    @AfterAll
    static void stopS3() {
        if (s3 != null) {
            s3.close();
        }
    }

    private static ImageSource source(int maxBytes, String... prefixes) {
        return new ImageSource(List.of(prefixes), maxBytes, Duration.ofSeconds(10), settings);
    }

    private static void assertRefused(ImageSource source, String uri, String reason) {
        assertThatThrownBy(() -> source.fetch(uri)).as(uri)
                .isExactlyInstanceOf(ImageFetchException.class)
                .hasMessageContaining(reason)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(SECRET));
    }

    @Test
    void anAllowedObjectIsReadAndItsKeyDecodedOnce() {
        try (ImageSource source = source(1024, "s3://imgs/cam/")) {
            assertThat(source.fetch("s3://imgs/cam/a.png")).isEqualTo(IMAGE);
            assertThat(source.fetch("s3://imgs/cam/./a.png")).isEqualTo(IMAGE);
            assertThat(source.fetch("s3://imgs/cam/with%20space.png")).isEqualTo(IMAGE);
        }
    }

    @Test
    void encodedDotDotCannotLeaveThePrefix() {
        try (ImageSource source = source(1024, "s3://imgs/cam/")) {
            assertRefused(source, "s3://imgs/cam/../camera-private/b.png", "'..' segment");
            assertRefused(source, "s3://imgs/cam/%2e%2e/camera-private/b.png", "'..' segment");
            assertRefused(source, "s3://imgs/cam/%2E%2e/camera-private/b.png", "'..' segment");
            assertRefused(source, "s3://imgs/cam/%252e%252e/camera-private/b.png", "double encoding");
            assertRefused(source, "s3://imgs/cam%2f..%2fcamera-private/b.png", "encoded '/'");
        }
    }

    @Test
    void bucketAndKeyPrefixesMatchWholeSegmentsOnly() {
        try (ImageSource source = source(1024, "s3://imgs/cam")) { // configured without the trailing slash
            assertThat(source.fetch("s3://imgs/cam/a.png")).isEqualTo(IMAGE);
            assertRefused(source, "s3://imgs/camera-private/b.png", "not under an allowed prefix");
            assertRefused(source, "s3://imgs-other/cam/a.png", "not under an allowed prefix");
            assertRefused(source, "s3://img/cam/a.png", "not under an allowed prefix");
            assertRefused(source, "https://imgs/cam/a.png", "not under an allowed prefix");
        }
    }

    @Test
    void aQueryFragmentPortUserInfoOrBadBucketIsRefused() {
        try (ImageSource source = source(1024, "s3://imgs/")) {
            assertRefused(source, "s3://imgs/cam/a.png?versionId=1", "query or fragment");
            assertRefused(source, "s3://imgs/cam/a.png#x", "query or fragment");
            assertRefused(source, "s3://imgs:9000/cam/a.png", "no valid bucket name");
            assertRefused(source, "s3://user@imgs/cam/a.png", "user info");
            assertRefused(source, "s3://IMGS/cam/a.png", "no valid bucket name");
            assertRefused(source, "s3://imgs", "names no object");
            assertRefused(source, "s3://imgs/cam/", "names no object");
        }
        assertThatThrownBy(() -> source(10, "s3://imgs/?x=1")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("query");
    }

    @Test
    void missingTooLargeAndUnreachableAreRefusedWithoutContent() {
        try (ImageSource source = source(16, "s3://imgs/", "s3://no-such-bucket/")) {
            assertRefused(source, "s3://imgs/cam/big.png", "declares 280 bytes, more than the limit of 16");
            assertRefused(source, "s3://imgs/cam/nope.png", "does not exist");
            assertRefused(source, "s3://no-such-bucket/a.png", "does not exist");
        }
        S3Settings nowhere = new S3Settings("us-east-1", "http://127.0.0.1:" + ApicurioRegistry.freePort(), true, "key", "secret");
        long started = System.nanoTime();
        try (ImageSource source = new ImageSource(List.of("s3://imgs/"), 1024, Duration.ofSeconds(3), nowhere)) {
            assertRefused(source, "s3://imgs/cam/a.png", "failed");
        }
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(6));
    }
}
