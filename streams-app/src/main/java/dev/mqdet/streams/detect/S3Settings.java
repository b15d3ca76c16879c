package dev.mqdet.streams.detect;

import java.net.URI;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;

/**
 * How to reach the object store behind {@code s3://} image references (keys {@code mqdet.image.s3.*}): the region,
 * an endpoint override for S3-compatible stores (MinIO, Ceph, S3Mock...), path-style access, and credentials, from
 * the configuration or else the SDK's default chain (environment, system properties, profile files, container or
 * instance roles). Empty strings mean "not set". Shared by the streams app and {@code ./mqdet produce}.
 *
 * @param region          e.g. {@code eu-west-1}; empty: the SDK's default region chain, else {@code us-east-1}
 * @param endpoint        e.g. {@code http://127.0.0.1:9000}; empty: AWS's own endpoint for the region
 * @param pathStyle       {@code http://endpoint/bucket/key} instead of {@code http://bucket.endpoint/key}
 * @param accessKeyId     with {@code secretAccessKey}; both empty: the default credentials chain
 * @param secretAccessKey never logged or quoted in a message
 */
public record S3Settings(String region, String endpoint, boolean pathStyle, String accessKeyId, String secretAccessKey) {

    public S3Settings {
        region = region == null ? "" : region.trim();
        endpoint = endpoint == null ? "" : endpoint.trim();
        accessKeyId = accessKeyId == null ? "" : accessKeyId.trim();
        secretAccessKey = secretAccessKey == null ? "" : secretAccessKey.trim();
        if (accessKeyId.isEmpty() != secretAccessKey.isEmpty()) {
            throw new IllegalArgumentException("an S3 access key id and secret access key are set together or not at all");
        }
        if (!endpoint.isEmpty()) {
            checkEndpoint(endpoint);
        }
    }

    /** Throws an {@link IllegalArgumentException} unless {@code endpoint} is an absolute http(s) URI without a path. */
    public static void checkEndpoint(String endpoint) {
        URI uri;
        try {
            uri = URI.create(endpoint.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("S3 endpoint '" + endpoint + "' is not a valid URI");
        }
        if (uri.getScheme() == null || !uri.getScheme().matches("https?") || uri.getHost() == null
                || uri.getQuery() != null || uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException("S3 endpoint '" + endpoint + "' must be http(s)://host[:port] without credentials or query");
        }
    }

    /**
     * A client with these settings whose every call (retries included) ends within {@code apiCallTimeout}. The caller
     * owns it and closes it.
     */
    public S3Client client(Duration apiCallTimeout) {
        Duration attempt = apiCallTimeout.compareTo(Duration.ofSeconds(5)) < 0 ? apiCallTimeout : Duration.ofSeconds(5);
        var builder = S3Client.builder()
                .region(resolvedRegion())
                .credentialsProvider(credentials())
                .httpClientBuilder(UrlConnectionHttpClient.builder().connectionTimeout(attempt).socketTimeout(apiCallTimeout))
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(pathStyle).build())
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .apiCallTimeout(apiCallTimeout).retryStrategy(RetryMode.STANDARD).build());
        if (!endpoint.isEmpty()) {
            builder.endpointOverride(URI.create(endpoint));
        }
        return builder.build();
    }

    private Region resolvedRegion() {
        if (!region.isEmpty()) {
            return Region.of(region);
        }
        try {
            return DefaultAwsRegionProviderChain.builder().build().getRegion();
        } catch (RuntimeException none) {
            return Region.US_EAST_1;
        }
    }

    private AwsCredentialsProvider credentials() {
        return accessKeyId.isEmpty() ? DefaultCredentialsProvider.builder().build()
                : StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKeyId, secretAccessKey));
    }

    @Override
    public String toString() { // no secret in logs
        return "S3Settings[region=" + region + ", endpoint=" + endpoint + ", pathStyle=" + pathStyle
                + ", credentials=" + (accessKeyId.isEmpty() ? "default chain" : "configured") + "]";
    }
}
