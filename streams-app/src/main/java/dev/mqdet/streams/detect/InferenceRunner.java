package dev.mqdet.streams.detect;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A task's inference jobs: run on the task's worker threads (or on the caller's thread when there are none),
 * answered strictly in the order they were submitted, so detection events leave in the order batches were formed.
 * Only the stream thread calls it; the workers never touch the processor context or the stores.
 */
final class InferenceRunner implements AutoCloseable {

    /** A finished batch and what became of each of its events. */
    record Finished(Batch batch, List<Outcome> outcomes) {}

    private record Job(Batch batch, Future<List<Outcome>> result) {}

    private final ExecutorService workers;
    private final Deque<Job> inFlight = new ArrayDeque<>();

    /** {@code threads} workers named after the task; 0 runs every job on the caller's thread at submit. */
    InferenceRunner(String name, int threads) {
        if (threads == 0) {
            this.workers = null;
        } else {
            AtomicInteger number = new AtomicInteger();
            this.workers = Executors.newFixedThreadPool(threads, runnable -> {
                Thread thread = new Thread(runnable, name + "-" + number.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            });
        }
    }

    void submit(Batch batch, Function<Batch, List<Outcome>> detect) {
        Future<List<Outcome>> result;
        if (workers == null) {
            CompletableFuture<List<Outcome>> inline = new CompletableFuture<>();
            try {
                inline.complete(detect.apply(batch));
            } catch (RuntimeException | Error e) {
                inline.completeExceptionally(e);
            }
            result = inline;
        } else {
            result = workers.submit(() -> detect.apply(batch));
        }
        inFlight.add(new Job(batch, result));
    }

    int inFlight() {
        return inFlight.size();
    }

    /** The finished jobs at the head of the queue, oldest first (a later job waits for an earlier one). */
    List<Finished> takeFinished() {
        List<Finished> done = new ArrayList<>();
        while (!inFlight.isEmpty() && inFlight.peek().result().isDone()) {
            done.add(finish(inFlight.poll()));
        }
        return done;
    }

    /** Waits at most {@code timeoutMs} for the oldest job; null when it is still running then. */
    Finished awaitOldest(long timeoutMs) {
        Job oldest = inFlight.peek();
        if (oldest == null) {
            return null;
        }
        try {
            oldest.result().get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException e) {
            // reported by finish below
        }
        return finish(inFlight.poll());
    }

    /**
     * A job's outcomes. The detector turns every record's failure into a dead letter itself, so a job fails only on
     * a JVM {@link Error} (out of memory, say), which is rethrown: the instance stops with it instead of retrying.
     */
    private static Finished finish(Job job) {
        try {
            return new Finished(job.batch(), job.result().get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading a finished inference job", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            // A bug that escaped the detector: each event of the batch is dead-lettered, never retried in a loop.
            Exception cause = e.getCause() instanceof Exception exception ? exception : e;
            return new Finished(job.batch(), job.batch().events().stream().map(p -> Outcome.failed(p, "inference", cause)).toList());
        }
    }

    /** Drops the jobs still running: their events are in the buffer, so the next owner of the task runs them again. */
    @Override
    public void close() {
        inFlight.clear();
        if (workers != null) {
            workers.shutdownNow();
            try {
                workers.awaitTermination(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
