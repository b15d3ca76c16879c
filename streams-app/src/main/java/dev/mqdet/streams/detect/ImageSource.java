package dev.mqdet.streams.detect;

import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.ImageReference;
import dev.mqdet.events.InlineImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The encoded bytes of an image event's image: inline, or fetched by URI when the URI, in canonical form, is under one
 * of the configured allowed prefixes (e.g. {@code https://images.example.com/}, {@code s3://bucket/frames/} or
 * {@code file:/data/images/}; see
 * {@link AllowedLocations} and {@link ImageUri} for the exact rule). Anything else is refused, so producers cannot
 * make the pipeline read arbitrary files or hosts.
 *
 * <p>Every failure is an {@link ImageFetchException} whose message says why and never contains any of the fetched
 * bytes: the message ends up in a dead letter, which other people may read.
 *
 * <p>It holds one S3 client when an {@code s3://} prefix is allowed: {@link #close} it with the app.
 */
public final class ImageSource implements AutoCloseable {

    /** The default overall deadline of one HTTP fetch. */
    public static final Duration DEFAULT_HTTP_DEADLINE = Duration.ofSeconds(10);

    /** The image could not be obtained: not allowed, unreachable, missing or too large. */
    public static final class ImageFetchException extends RuntimeException {
        public ImageFetchException(String message) {
            super(message);
        }
    }

    private final AllowedLocations allowed;
    private final int maxBytes;
    private final HttpImageFetcher http;
    private final S3ImageFetcher s3;

    /**
     * @param allowedPrefixes where images may come from; an unusable prefix is an {@link IllegalArgumentException}
     * @param maxBytes        larger images are refused, without reading more than this
     * @param httpDeadline    the most one HTTP fetch may take, connect to last byte
     */
    public ImageSource(List<String> allowedPrefixes, int maxBytes, Duration httpDeadline) {
        this(allowedPrefixes, maxBytes, httpDeadline, new S3Settings("", "", false, "", ""));
    }

    /**
     * @param deadline the most one HTTP or S3 fetch may take, connect to last byte
     * @param s3       how to reach the object store; its client is made only when an {@code s3://} prefix is allowed
     */
    public ImageSource(List<String> allowedPrefixes, int maxBytes, Duration deadline, S3Settings s3) {
        if (maxBytes < 1 || deadline.isNegative() || deadline.isZero()) {
            throw new IllegalArgumentException("maxBytes must be at least 1 and the HTTP deadline positive");
        }
        this.allowed = AllowedLocations.of(allowedPrefixes);
        this.maxBytes = maxBytes;
        this.http = new HttpImageFetcher(maxBytes, deadline);
        this.s3 = allowed.allowsS3() ? new S3ImageFetcher(s3, maxBytes, deadline) : null;
    }

    public ImageSource(List<String> allowedPrefixes, int maxBytes) {
        this(allowedPrefixes, maxBytes, DEFAULT_HTTP_DEADLINE);
    }

    /** Throws an {@link IllegalArgumentException} naming the first prefix that cannot be used as an allowed prefix. */
    public static void checkAllowedPrefixes(List<String> allowedPrefixes) {
        AllowedLocations.of(allowedPrefixes);
    }

    public byte[] bytes(ImageEvent event) {
        if (event.getImage() instanceof InlineImage inline) {
            return copy(inline.getData());
        }
        return fetch(((ImageReference) event.getImage()).getUri());
    }

    /** The remaining bytes of an Avro {@code bytes} field, leaving the buffer's position alone. */
    public static byte[] copy(ByteBuffer data) {
        byte[] bytes = new byte[data.remaining()];
        data.duplicate().get(bytes);
        return bytes;
    }

    /** The bytes at {@code uri}, if it is allowed; an {@link ImageFetchException} otherwise (never another exception). */
    public byte[] fetch(String uri) {
        try {
            ImageUri checked = allowed.check(uri);
            if (checked.isS3()) {
                return s3.fetch(checked); // allowed, so an s3 prefix is configured and the client exists
            }
            return checked.isFile() ? readFile(checked) : http.fetch(checked.httpUri());
        } catch (ImageFetchException e) {
            throw e;
        } catch (RuntimeException e) { // a rule above missed a case: still a refusal, not a crashed stream thread
            throw new ImageFetchException("image URI '" + ImageUri.shorten(uri) + "' could not be fetched: " + e.getClass().getSimpleName());
        }
    }

    private byte[] readFile(ImageUri uri) {
        Path real = allowed.realFile(uri);
        // NOFOLLOW_LINKS: the real path has no links left; one swapped in since the check is refused, not followed.
        try (InputStream in = Files.newInputStream(real, LinkOption.NOFOLLOW_LINKS)) {
            byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8L, maxBytes + 1L));
            if (bytes.length > maxBytes) {
                throw new ImageFetchException("image file " + uri + " is larger than the limit of " + maxBytes + " bytes");
            }
            return bytes;
        } catch (IOException e) {
            throw new ImageFetchException("reading image file " + uri + " failed: " + e.getClass().getSimpleName());
        }
    }

    /** Closes the S3 client, if there is one. */
    @Override
    public void close() {
        if (s3 != null) {
            s3.close();
        }
    }
}
