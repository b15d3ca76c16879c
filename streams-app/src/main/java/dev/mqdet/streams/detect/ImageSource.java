package dev.mqdet.streams.detect;

import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.ImageReference;
import dev.mqdet.events.InlineImage;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The encoded bytes of an image event's image: inline, or fetched by URI when the URI starts with one of the
 * configured allowed prefixes (e.g. {@code https://images.example.com/} or {@code file:/data/images/}); anything
 * else is refused, so producers cannot make the pipeline read arbitrary files or hosts.
 */
public final class ImageSource {

    /** The image could not be obtained: not allowed, unreachable, missing or too large. */
    public static final class ImageFetchException extends RuntimeException {
        public ImageFetchException(String message) {
            super(message);
        }
    }

    private final List<String> allowedPrefixes;
    private final int maxBytes;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER).build();

    public ImageSource(List<String> allowedPrefixes, int maxBytes) {
        this.allowedPrefixes = List.copyOf(allowedPrefixes);
        this.maxBytes = maxBytes;
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

    private byte[] fetch(String uri) {
        URI parsed;
        try {
            parsed = URI.create(uri).normalize();
        } catch (IllegalArgumentException e) {
            throw new ImageFetchException("image URI '" + uri + "' is not a valid URI");
        }
        String normalized = parsed.toString();
        if (normalized.contains("..") || allowedPrefixes.stream().noneMatch(normalized::startsWith)) {
            throw new ImageFetchException("image URI '" + uri + "' is not under an allowed prefix " + allowedPrefixes
                    + " (mqdet.image.fetch.allowed-prefixes)");
        }
        try {
            switch (parsed.getScheme()) {
                case "file" -> {
                    Path path = Path.of(parsed);
                    if (Files.size(path) > maxBytes) {
                        throw new ImageFetchException("image " + uri + " is larger than " + maxBytes + " bytes");
                    }
                    return Files.readAllBytes(path);
                }
                case "http", "https" -> {
                    HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(parsed).timeout(Duration.ofSeconds(10)).build(),
                            HttpResponse.BodyHandlers.ofInputStream());
                    try (InputStream body = response.body()) {
                        if (response.statusCode() != 200) {
                            throw new ImageFetchException("fetching " + uri + " answered HTTP " + response.statusCode());
                        }
                        byte[] bytes = body.readNBytes(maxBytes + 1);
                        if (bytes.length > maxBytes) {
                            throw new ImageFetchException("image " + uri + " is larger than " + maxBytes + " bytes");
                        }
                        return bytes;
                    }
                }
                default -> throw new ImageFetchException("image URI scheme " + parsed.getScheme() + " is not supported");
            }
        } catch (IOException e) {
            throw new ImageFetchException("fetching " + uri + " failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageFetchException("interrupted while fetching " + uri);
        }
    }
}
