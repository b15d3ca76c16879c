package dev.mqdet.streams.detect;

import java.util.concurrent.Semaphore;
import java.util.function.Supplier;

/**
 * How many images one instance fetches and decodes at once, over all its tasks and inference workers
 * ({@code mqdet.decode.max-concurrent}): a decode of a large image needs its full pixel buffer on the heap, so
 * the number in progress, not only their size, bounds the instance's memory.
 */
public final class DecodeGate {

    private final Semaphore permits;

    public DecodeGate(int maxConcurrent) {
        if (maxConcurrent < 1) {
            throw new IllegalArgumentException("decodes at once must be at least 1, got " + maxConcurrent);
        }
        this.permits = new Semaphore(maxConcurrent, true);
    }

    /** Runs {@code decode} once a permit is free. */
    public <T> T run(Supplier<T> decode) {
        permits.acquireUninterruptibly();
        try {
            return decode.get();
        } finally {
            permits.release();
        }
    }
}
