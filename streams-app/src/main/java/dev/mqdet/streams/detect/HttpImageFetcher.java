package dev.mqdet.streams.detect;

import dev.mqdet.streams.detect.ImageSource.ImageFetchException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodySubscriber;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Fetches one image over HTTP(S) within an overall deadline (connect, headers and the whole body: a server that
 * trickles bytes cannot hold a stream thread) and a byte cap (the body is cut off as soon as it passes the cap, and a
 * larger {@code Content-Length} is refused before any byte is read). Redirects are not followed: the target was not
 * checked against the allowed prefixes.
 */
final class HttpImageFetcher {

    private final HttpClient http;
    private final int maxBytes;
    private final Duration deadline;

    HttpImageFetcher(int maxBytes, Duration deadline) {
        this.maxBytes = maxBytes;
        this.deadline = deadline;
        Duration connect = deadline.compareTo(Duration.ofSeconds(5)) < 0 ? deadline : Duration.ofSeconds(5);
        this.http = HttpClient.newBuilder().connectTimeout(connect).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    byte[] fetch(URI uri) {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(deadline).GET().build();
        CompletableFuture<HttpResponse<byte[]>> response = http.sendAsync(request, this::bodyFor);
        try {
            HttpResponse<byte[]> answer = response.get(deadline.toMillis(), TimeUnit.MILLISECONDS);
            int status = answer.statusCode();
            if (status / 100 == 3) {
                throw new ImageFetchException("fetching " + uri + " answered HTTP " + status + " (a redirect; redirects are not followed)");
            }
            if (status != 200) {
                throw new ImageFetchException("fetching " + uri + " answered HTTP " + status);
            }
            return answer.body();
        } catch (TimeoutException e) {
            response.cancel(true); // aborts the exchange and frees the connection
            throw new ImageFetchException("fetching " + uri + " did not finish within " + deadline.toMillis()
                    + " ms (mqdet.image.fetch.timeout-ms)");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ImageFetchException fetch) {
                throw new ImageFetchException("fetching " + uri + ": " + fetch.getMessage());
            }
            if (cause instanceof java.net.http.HttpTimeoutException) {
                throw new ImageFetchException("fetching " + uri + " did not finish within " + deadline.toMillis()
                        + " ms (mqdet.image.fetch.timeout-ms)");
            }
            if (cause instanceof IOException && cause.getCause() instanceof ImageFetchException fetch) {
                throw new ImageFetchException("fetching " + uri + ": " + fetch.getMessage());
            }
            throw new ImageFetchException("fetching " + uri + " failed: " + cause.getClass().getSimpleName()
                    + (cause.getMessage() == null ? "" : ": " + cause.getMessage()));
        } catch (InterruptedException e) {
            response.cancel(true);
            Thread.currentThread().interrupt();
            throw new ImageFetchException("interrupted while fetching " + uri);
        }
    }

    private BodySubscriber<byte[]> bodyFor(HttpResponse.ResponseInfo info) {
        if (info.statusCode() != 200) {
            return HttpResponse.BodySubscribers.replacing(null); // the body of a refusal is never read
        }
        long declared = info.headers().firstValueAsLong("Content-Length").orElse(-1);
        if (declared > maxBytes) {
            return new Bounded(maxBytes, "declares " + declared + " bytes, more than the limit of " + maxBytes);
        }
        return new Bounded(maxBytes, null);
    }

    /** Collects the body up to {@code maxBytes}; one byte more cancels the download. */
    private static final class Bounded implements BodySubscriber<byte[]> {
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        private final int maxBytes;
        private final String refusal;
        private Flow.Subscription subscription;

        Bounded(int maxBytes, String refusal) {
            this.maxBytes = maxBytes;
            this.refusal = refusal;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
            if (refusal != null) {
                subscription.cancel();
                result.completeExceptionally(new ImageFetchException("the image " + refusal));
                return;
            }
            subscription.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer item : items) {
                if (buffer.size() + item.remaining() > maxBytes) {
                    subscription.cancel();
                    result.completeExceptionally(new ImageFetchException("the image is larger than the limit of " + maxBytes + " bytes"));
                    return;
                }
                byte[] chunk = new byte[item.remaining()];
                item.get(chunk);
                buffer.writeBytes(chunk);
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable error) {
            result.completeExceptionally(error);
        }

        @Override
        public void onComplete() {
            result.complete(buffer.toByteArray());
        }
    }
}
