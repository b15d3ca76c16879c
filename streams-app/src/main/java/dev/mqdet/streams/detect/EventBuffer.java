package dev.mqdet.streams.detect;

import dev.mqdet.events.ImageEvent;
import dev.mqdet.streams.DeadLetters.Origin;
import dev.mqdet.streams.detect.QuerySets.QuerySet;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The task's accepted image events until each is answered. Every event is written to a changelogged store as it
 * arrives and deleted only when its detection event or dead letter is forwarded, in the same processing step, so
 * the committed offsets, outputs and buffer always agree: a crash or a rebalance loses nothing (see the processor).
 *
 * <p>In memory, events move through three queues: arrivals (not yet joined), waiting for a query set that is not
 * (yet) encoded, and ready, per query set, for a batch. Joining touches only the new arrivals (and, on a tick, the
 * waiting ones), never the whole buffer. Events handed to inference are in no queue but stay in the store.
 */
final class EventBuffer {

    /** Where events that cannot be answered go (a dead letter with this stage and error). */
    interface Refusals {
        void refuse(Pending pending, String stage, Exception error);
    }

    /** The limits of the join. */
    record JoinLimits(long unknownQuerySetWaitMs, int maxWaitingForQuerySet, int maxCategories) {}

    private static final class ReadyQueue {
        QuerySet querySet;
        final ArrayDeque<Pending> events = new ArrayDeque<>();
    }

    private final KeyValueStore<Bytes, byte[]> store;
    private final BufferBudget budget;
    private int heldEvents;
    private long heldBytes;
    private final ArrayDeque<Pending> arrivals = new ArrayDeque<>();
    private final ArrayDeque<Pending> waitingForQuerySet = new ArrayDeque<>();
    private final Map<String, ReadyQueue> ready = new LinkedHashMap<>();
    private int readyCount;
    private long nextSequence;

    EventBuffer(KeyValueStore<Bytes, byte[]> store, BufferBudget budget) {
        this.store = store;
        this.budget = budget;
    }

    /** Bytes an event takes against the instance's budget: its key and value as read. */
    static long size(byte[] key, byte[] value) {
        return (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
    }

    /**
     * Puts what the store holds after a restart or rebalance back in the queue of arrivals, decoding each again.
     *
     * @return how many events were restored
     */
    int restore(Function<BufferedImageEvent, ImageEvent> decode) {
        int restored = 0;
        try (KeyValueIterator<Bytes, byte[]> it = store.all()) {
            while (it.hasNext()) {
                KeyValue<Bytes, byte[]> entry = it.next();
                BufferedImageEvent.Stored stored = BufferedImageEvent.fromStore(entry.key, entry.value);
                nextSequence = Math.max(nextSequence, stored.sequence() + 1);
                arrivals.add(new Pending(stored.sequence(), stored.storeKey(), stored.event(), decode.apply(stored.event())));
                long size = size(stored.event().key(), stored.event().value());
                budget.force(size); // accepted before the restart: held whatever the caps
                heldEvents++;
                heldBytes += size;
                restored++;
            }
        }
        return restored;
    }

    /**
     * Accepts an event: durable at the next commit, before its input offset is.
     *
     * @throws BufferBudget.BufferFullException when the instance's buffers are full (nothing is taken)
     */
    Pending add(Origin origin, long timestampMs, long nowMs, byte[] key, byte[] value, ImageEvent event) {
        long size = size(key, value);
        budget.reserve(size);
        heldEvents++;
        heldBytes += size;
        BufferedImageEvent buffered = new BufferedImageEvent(origin, timestampMs, nowMs, key, value);
        long sequence = nextSequence++;
        Pending pending = new Pending(sequence, buffered.storeKey(sequence), buffered, event);
        store.put(pending.storeKey(), value); // the record's own array: see BufferedImageEvent
        arrivals.add(pending);
        return pending;
    }

    /** Joins the new arrivals with their query sets: each goes to its ready queue, the waiting queue, or is refused. */
    void joinArrivals(long nowMs, Function<String, QuerySet> lookup, JoinLimits limits, Refusals refusals) {
        Map<String, QuerySet> seen = new HashMap<>(); // one consistent view per query set per join
        while (!arrivals.isEmpty()) {
            route(arrivals.poll(), nowMs, id -> seen.computeIfAbsent(id, lookup), limits, refusals);
        }
    }

    /** Looks again for the query sets of the waiting events (on a tick), in arrival order. */
    void joinWaiting(long nowMs, Function<String, QuerySet> lookup, JoinLimits limits, Refusals refusals) {
        if (waitingForQuerySet.isEmpty()) {
            return;
        }
        Map<String, QuerySet> seen = new HashMap<>();
        List<Pending> again = new ArrayList<>(waitingForQuerySet);
        waitingForQuerySet.clear();
        for (Pending pending : again) {
            route(pending, nowMs, id -> seen.computeIfAbsent(id, lookup), limits, refusals);
        }
    }

    private void route(Pending pending, long nowMs, Function<String, QuerySet> lookup, JoinLimits limits, Refusals refusals) {
        String querySetId = pending.event().getQuerySetId();
        QuerySet querySet = lookup.apply(querySetId);
        if (querySet.isEmpty()) {
            boolean expired = nowMs - pending.buffered().bufferedAtMs() >= limits.unknownQuerySetWaitMs();
            if (expired) {
                refusals.refuse(pending, "join", new UnknownQuerySetException("no categories registered for query set '"
                        + querySetId + "' after waiting " + limits.unknownQuerySetWaitMs() + " ms (mqdet.query-set.unknown-wait-ms)"));
            } else if (waitingForQuerySet.size() >= limits.maxWaitingForQuerySet()) {
                refusals.refuse(pending, "join", new UnknownQuerySetException("no categories registered for query set '" + querySetId
                        + "', and " + waitingForQuerySet.size() + " events already wait for unknown query sets (mqdet.query-set.max-waiting)"));
            } else {
                waitingForQuerySet.add(pending); // its query set may be on its way
            }
        } else if (querySet.categories().size() > limits.maxCategories()) {
            refusals.refuse(pending, "join", new QuerySetTooLargeException("query set '" + querySetId + "' has "
                    + querySet.categories().size() + " categories, above mqdet.query-set.max-categories " + limits.maxCategories()));
        } else {
            ReadyQueue queue = ready.computeIfAbsent(querySetId, id -> new ReadyQueue());
            queue.querySet = querySet; // the newest view: queued events run with the query set as it is now
            queue.events.add(pending);
            readyCount++;
        }
    }

    /** True when every accepted event has been answered: nothing of the task is buffered or in inference. */
    boolean isEmpty() {
        return heldEvents == 0;
    }

    int readyCount() {
        return readyCount;
    }

    int waitingForQuerySetCount() {
        return waitingForQuerySet.size();
    }

    boolean hasFullBatch(int batchSize) {
        for (ReadyQueue queue : ready.values()) {
            if (queue.events.size() >= batchSize) {
                return true;
            }
        }
        return false;
    }

    /** When the oldest ready event was buffered, or {@code Long.MAX_VALUE} when none is ready. */
    long oldestReadyAtMs() {
        long oldest = Long.MAX_VALUE;
        for (ReadyQueue queue : ready.values()) {
            oldest = Math.min(oldest, queue.events.peek().buffered().bufferedAtMs());
        }
        return oldest;
    }

    /** Takes up to {@code batchSize} ready events of the query set whose oldest event has waited longest. */
    Batch take(int batchSize, long nowMs) {
        ReadyQueue oldest = null;
        String oldestId = null;
        for (Map.Entry<String, ReadyQueue> entry : ready.entrySet()) {
            ReadyQueue queue = entry.getValue();
            if (oldest == null || queue.events.peek().buffered().bufferedAtMs() < oldest.events.peek().buffered().bufferedAtMs()) {
                oldest = queue;
                oldestId = entry.getKey();
            }
        }
        if (oldest == null) {
            throw new IllegalStateException("no ready events");
        }
        List<Pending> events = new ArrayList<>(Math.min(batchSize, oldest.events.size()));
        for (Iterator<Pending> it = oldest.events.iterator(); it.hasNext() && events.size() < batchSize; ) {
            events.add(it.next());
            it.remove();
        }
        readyCount -= events.size();
        if (oldest.events.isEmpty()) {
            ready.remove(oldestId);
        }
        return new Batch(oldest.querySet, events, nowMs, System.nanoTime());
    }

    /** The event was answered (its output forwarded in this step): it leaves the buffer. */
    void answered(Pending pending) {
        store.delete(pending.storeKey());
        long size = size(pending.buffered().key(), pending.buffered().value());
        budget.release(1, size);
        heldEvents--;
        heldBytes -= size;
    }

    /** The task closes (rebalance, shutdown): its events stay in the store for whoever takes the task over. */
    void releaseBudget() {
        budget.release(heldEvents, heldBytes);
        heldEvents = 0;
        heldBytes = 0;
    }
}
