package dev.mqdet.devtools.produce;

import dev.mqdet.streams.detect.S3Settings;
import java.net.URI;
import java.time.Duration;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * {@code --by-reference s3://bucket/prefix/}: each image is uploaded to {@code prefix + event id + extension} in the
 * bucket, and the event carries that {@code s3://} URI instead of the bytes. The streams app must allow the prefix
 * ({@code mqdet.image.fetch.allowed-prefixes}) and reach the same store ({@code mqdet.image.s3.*}).
 */
final class S3Upload implements AutoCloseable {

    private final S3Client s3;
    private final String bucket;
    private final String prefix;

    S3Upload(String target, S3Settings settings, Duration timeout) {
        URI uri = URI.create(target);
        if (!"s3".equals(uri.getScheme()) || uri.getRawAuthority() == null || uri.getQuery() != null || uri.getFragment() != null) {
            throw new IllegalArgumentException("--by-reference must be s3://bucket/prefix/, not '" + target + "'");
        }
        this.bucket = uri.getRawAuthority();
        String path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
        this.prefix = path.isEmpty() || path.endsWith("/") ? path : path + "/";
        this.s3 = settings.client(timeout);
    }

    /** Uploads {@code bytes} as {@code name} under the prefix; returns its {@code s3://} URI. */
    String upload(String name, byte[] bytes, String mediaType) {
        String key = prefix + name;
        s3.putObject(b -> b.bucket(bucket).key(key).contentType(mediaType), RequestBody.fromBytes(bytes));
        return "s3://" + bucket + "/" + key;
    }

    @Override
    public void close() {
        s3.close();
    }
}
