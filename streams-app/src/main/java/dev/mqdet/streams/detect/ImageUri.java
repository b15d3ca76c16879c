package dev.mqdet.streams.detect;

import dev.mqdet.streams.detect.ImageSource.ImageFetchException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An image URI in canonical form, the only form the allow rule ({@link AllowedLocations}) ever compares: scheme and
 * host in lower case, the port made explicit, the path percent-decoded once and split into segments with empty and
 * {@code .} segments dropped. Whatever could mean something else to the file system or to a server after this
 * check is refused outright instead of being "cleaned": a {@code ..} segment, an encoded {@code /} or {@code \}, a
 * {@code %} left after decoding (double encoding), control characters, user info, and for {@code file:} a host,
 * query or fragment. The fetch then uses this form, so what was checked is what is read.
 *
 * <p>{@code s3://bucket/key}: the host is the bucket (an S3 bucket name: lower-case letters, digits, {@code .} and
 * {@code -}, 3 to 63 characters), no port, no query or fragment; the key is the canonical path without its leading
 * {@code /}.
 */
record ImageUri(String scheme, String host, int port, List<String> segments, boolean trailingSlash, String rawQuery) {

    private static final int MAX_LENGTH = 8_192;
    private static final java.util.regex.Pattern BUCKET = java.util.regex.Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

    /** Parses {@code text}; every refusal is an {@link ImageFetchException} naming the rule. */
    static ImageUri parse(String text) {
        if (text == null || text.isBlank()) {
            throw refused(text, "is empty");
        }
        if (text.length() > MAX_LENGTH) {
            throw new ImageFetchException("image URI of " + text.length() + " characters is longer than " + MAX_LENGTH);
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw refused(text, "is not a valid URI (" + e.getReason() + ")");
        }
        if (uri.getScheme() == null || uri.isOpaque()) {
            throw refused(text, "is not an absolute hierarchical URI (e.g. https://host/path or file:/path)");
        }
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        if (uri.getRawUserInfo() != null) {
            throw refused(text, "carries user info; credentials in image URIs are not accepted");
        }
        String host;
        int port;
        String rawQuery = uri.getRawQuery();
        switch (scheme) {
            case "file" -> {
                if (uri.getRawAuthority() != null && !uri.getRawAuthority().isEmpty()) {
                    throw refused(text, "names a host; file: URIs must be local (file:/path or file:///path)");
                }
                if (rawQuery != null || uri.getRawFragment() != null) {
                    throw refused(text, "has a query or fragment, which a file: URI cannot have");
                }
                host = "";
                port = -1;
            }
            case "http", "https" -> {
                if (uri.getHost() == null) {
                    throw refused(text, "has no valid host");
                }
                host = uri.getHost().toLowerCase(Locale.ROOT);
                if (host.endsWith(".")) { // "example.com." is the same DNS name as "example.com"
                    host = host.substring(0, host.length() - 1);
                }
                port = uri.getPort() != -1 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
            }
            case "s3" -> {
                String bucket = uri.getRawAuthority();
                if (bucket == null || !BUCKET.matcher(bucket).matches() || bucket.contains("..")) {
                    throw refused(text, "has no valid bucket name (s3://bucket/key; lower-case letters, digits, '.' and '-')");
                }
                if (rawQuery != null || uri.getRawFragment() != null) {
                    throw refused(text, "has a query or fragment, which an s3: URI cannot have");
                }
                host = bucket;
                port = -1;
            }
            default -> throw refused(text, "has scheme '" + scheme + "'; only http, https, s3 and file are supported");
        }
        String rawPath = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        String lowerRaw = rawPath.toLowerCase(Locale.ROOT);
        if (lowerRaw.contains("%2f") || lowerRaw.contains("%5c")) {
            throw refused(text, "has an encoded '/' or '\\' in its path");
        }
        String path = uri.getPath();
        if (path.indexOf('%') >= 0) {
            throw refused(text, "still has a '%' escape after decoding (double encoding)");
        }
        if (path.indexOf('\\') >= 0) {
            throw refused(text, "has a '\\' in its path");
        }
        if (path.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw refused(text, "has control characters in its path");
        }
        List<String> segments = new ArrayList<>();
        for (String segment : path.split("/")) {
            if (segment.equals("..")) {
                throw refused(text, "has a '..' segment");
            }
            if (!segment.isEmpty() && !segment.equals(".")) {
                segments.add(segment);
            }
        }
        return new ImageUri(scheme, host, port, List.copyOf(segments), path.endsWith("/"), rawQuery);
    }

    /** The decoded, normalised path: "/" plus the segments. */
    String path() {
        String joined = "/" + String.join("/", segments);
        return trailingSlash && !segments.isEmpty() ? joined + "/" : joined;
    }

    boolean isFile() {
        return scheme.equals("file");
    }

    boolean isS3() {
        return scheme.equals("s3");
    }

    /** The S3 bucket of an {@code s3:} URI. */
    String bucket() {
        return host;
    }

    /** The S3 object key of an {@code s3:} URI: the canonical path without its leading {@code /}. */
    String key() {
        return path().substring(1);
    }

    /** Same scheme, host and port, and {@code prefix}'s segments are the first segments of this path. */
    boolean isUnder(ImageUri prefix) {
        return scheme.equals(prefix.scheme) && host.equals(prefix.host) && port == prefix.port
                && segments.size() >= prefix.segments.size() && segments.subList(0, prefix.segments.size()).equals(prefix.segments);
    }

    /** The URI an HTTP request goes to: built from the canonical parts, re-encoded, with the original query. */
    URI httpUri() {
        try {
            String base = new URI(scheme, null, host, port, path(), null, null).toASCIIString();
            return new URI(rawQuery == null ? base : base + "?" + rawQuery);
        } catch (URISyntaxException e) {
            throw new ImageFetchException("image URI " + this + " cannot be rebuilt: " + e.getReason());
        }
    }

    @Override
    public String toString() {
        return isFile() ? "file:" + path() : isS3() ? "s3://" + host + path() : scheme + "://" + host + ":" + port + path()
                + (rawQuery == null ? "" : "?" + rawQuery);
    }

    static ImageFetchException refused(String text, String why) {
        return new ImageFetchException("image URI '" + shorten(text) + "' " + why);
    }

    static String shorten(String text) {
        return text == null ? "" : text.length() > 300 ? text.substring(0, 300) + "..." : text;
    }
}
