package dev.mqdet.streams.detect;

import dev.mqdet.streams.detect.ImageSource.ImageFetchException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where images may be fetched from (configuration {@code mqdet.image.fetch.allowed-prefixes}). Each allowed prefix is
 * put in canonical form like the URIs it is compared with ({@link ImageUri}); a URI is allowed when scheme, host and
 * port are equal and the prefix's path segments are its first path segments, so {@code https://img.example.com}
 * allows neither {@code https://img.example.com.evil.net/} nor {@code https://img.example.com:8443/}, and
 * {@code file:/data/images} does not allow {@code /data/images-private}.
 *
 * <p>For {@code file:} the check is repeated on the real paths (symbolic links resolved) of both the file and the
 * allowed root, because a link under the root may point anywhere.
 */
final class AllowedLocations {

    private final List<ImageUri> prefixes;
    private final List<String> configured;

    private AllowedLocations(List<ImageUri> prefixes, List<String> configured) {
        this.prefixes = prefixes;
        this.configured = configured;
    }

    /** Parses the configured prefixes; an unusable one is an {@link IllegalArgumentException} naming it and why. */
    static AllowedLocations of(List<String> allowedPrefixes) {
        List<ImageUri> parsed = new ArrayList<>();
        for (String prefix : allowedPrefixes) {
            ImageUri uri;
            try {
                uri = ImageUri.parse(prefix.trim());
            } catch (ImageFetchException e) {
                throw new IllegalArgumentException("allowed image prefix '" + prefix + "' is not usable: " + e.getMessage());
            }
            if (uri.rawQuery() != null) {
                throw new IllegalArgumentException("allowed image prefix '" + prefix + "' must not have a query");
            }
            parsed.add(uri);
        }
        return new AllowedLocations(List.copyOf(parsed), List.copyOf(allowedPrefixes));
    }

    /** The canonical form of {@code text} when it is under an allowed prefix; otherwise a refusal. */
    ImageUri check(String text) {
        ImageUri uri = ImageUri.parse(text);
        if (allowing(uri) == null) {
            throw ImageUri.refused(text, "is not under an allowed prefix " + configured + " (mqdet.image.fetch.allowed-prefixes)");
        }
        return uri;
    }

    /**
     * The real path of an allowed {@code file:} URI: a regular file whose real path is still under the real path of
     * an allowed root. Only called after {@link #check}, so nothing about files outside the roots is revealed.
     */
    Path realFile(ImageUri uri) {
        Path file = Path.of(uri.path());
        Path real;
        try {
            real = file.toRealPath();
        } catch (NoSuchFileException e) {
            throw new ImageFetchException("image file " + uri + " does not exist");
        } catch (IOException | SecurityException e) {
            throw new ImageFetchException("image file " + uri + " cannot be resolved: " + e.getClass().getSimpleName());
        }
        for (ImageUri prefix : prefixes) {
            Path root = prefix.isFile() && uri.isUnder(prefix) ? realRoot(prefix) : null;
            if (root != null && real.startsWith(root)) {
                if (!Files.isRegularFile(real)) {
                    throw new ImageFetchException("image file " + uri + " is not a regular file");
                }
                return real;
            }
        }
        throw new ImageFetchException("image file " + uri + " resolves (through a symbolic link) outside every allowed root " + configured);
    }

    /** Whether some allowed prefix is an {@code s3://} bucket: only then is an S3 client needed. */
    boolean allowsS3() {
        return prefixes.stream().anyMatch(ImageUri::isS3);
    }

    private ImageUri allowing(ImageUri uri) {
        return prefixes.stream().filter(uri::isUnder).findFirst().orElse(null);
    }

    private static Path realRoot(ImageUri prefix) {
        try {
            return Path.of(prefix.path()).toRealPath();
        } catch (IOException | SecurityException e) {
            return null; // a root that does not exist contains no file

        }
    }
}
