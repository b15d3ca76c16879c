package dev.mqdet.streams.detect;

import dev.mqdet.streams.detect.ImageSource.ImageFetchException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Fetches one {@code s3://bucket/key} object with the AWS SDK within the overall deadline (the client's API call
 * timeout until the response, then a timer that aborts a body still being read at the deadline) and the byte cap: a larger {@code Content-Length} is refused before the body is read, and at most
 * {@code maxBytes + 1} bytes are ever read; the connection of an unfinished body is aborted, not drained.
 * One client per instance, closed with the {@link ImageSource}.
 */
final class S3ImageFetcher implements AutoCloseable {

    private final S3Client s3;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "s3-image-fetch-deadline");
        thread.setDaemon(true);
        return thread;
    });
    private final int maxBytes;
    private final Duration deadline;

    S3ImageFetcher(S3Settings settings, int maxBytes, Duration deadline) {
        this.s3 = settings.client(deadline);
        this.maxBytes = maxBytes;
        this.deadline = deadline;
    }

    byte[] fetch(ImageUri uri) {
        if (uri.key().isEmpty() || uri.trailingSlash()) {
            throw new ImageFetchException("image URI " + uri + " names no object (s3://bucket/key)");
        }
        GetObjectRequest request = GetObjectRequest.builder().bucket(uri.bucket()).key(uri.key()).build();
        long started = System.nanoTime();
        AtomicBoolean expired = new AtomicBoolean();
        ScheduledFuture<?> abort = null;
        try (ResponseInputStream<GetObjectResponse> body = s3.getObject(request)) {
            long left = deadline.toNanos() - (System.nanoTime() - started);
            abort = timer.schedule(() -> {
                expired.set(true);
                body.abort();
            }, Math.max(0, left), TimeUnit.NANOSECONDS);
            Long declared = body.response().contentLength();
            if (declared != null && declared > maxBytes) {
                body.abort();
                throw new ImageFetchException("image " + uri + " declares " + declared + " bytes, more than the limit of " + maxBytes);
            }
            byte[] bytes = body.readNBytes((int) Math.min(Integer.MAX_VALUE - 8L, maxBytes + 1L));
            if (bytes.length > maxBytes) {
                body.abort();
                throw new ImageFetchException("image " + uri + " is larger than the limit of " + maxBytes + " bytes");
            }
            return bytes;
        } catch (NoSuchKeyException e) {
            throw new ImageFetchException("image " + uri + " does not exist (no such key)");
        } catch (NoSuchBucketException e) {
            throw new ImageFetchException("image " + uri + ": bucket " + uri.bucket() + " does not exist");
        } catch (S3Exception e) {
            throw new ImageFetchException("fetching image " + uri + " answered HTTP " + e.statusCode()
                    + (e.awsErrorDetails() == null ? "" : " " + e.awsErrorDetails().errorCode()));
        } catch (ApiCallTimeoutException | ApiCallAttemptTimeoutException e) {
            throw timedOut(uri);
        } catch (SdkClientException e) {
            throw new ImageFetchException("fetching image " + uri + " failed: " + e.getClass().getSimpleName()
                    + (e.getCause() == null ? "" : " (" + e.getCause().getClass().getSimpleName() + ")"));
        } catch (IOException | RuntimeException e) {
            if (expired.get()) {
                throw timedOut(uri);
            }
            if (e instanceof ImageFetchException fetch) {
                throw fetch;
            }
            throw new ImageFetchException("reading image " + uri + " failed: " + e.getClass().getSimpleName());
        } finally {
            if (abort != null) {
                abort.cancel(false);
            }
        }
    }

    private ImageFetchException timedOut(ImageUri uri) {
        return new ImageFetchException("fetching image " + uri + " did not finish within " + deadline.toMillis()
                + " ms (mqdet.image.fetch.timeout-ms)");
    }

    @Override
    public void close() {
        timer.shutdownNow();
        s3.close();
    }
}
