package dev.mqdet.streams.detect;

/**
 * What one instance may hold in its batch buffers, over all its tasks: a number of events and of record bytes
 * ({@code mqdet.buffer.max-events}, {@code mqdet.buffer.max-bytes}). An event that does not fit is dead-lettered
 * at once (stage {@code buffer}) instead of growing the heap without end; an answered event gives its room back.
 * Shared by the tasks of an instance, which run on several stream threads.
 */
public final class BufferBudget {

    private final int maxEvents;
    private final long maxBytes;
    private int events;
    private long bytes;

    public BufferBudget(int maxEvents, long maxBytes) {
        if (maxEvents < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("buffer caps must be at least 1, got " + maxEvents + " events and " + maxBytes + " bytes");
        }
        this.maxEvents = maxEvents;
        this.maxBytes = maxBytes;
    }

    /** Takes room for one event of {@code size} bytes; throws, taking nothing, when it does not fit. */
    public synchronized void reserve(long size) {
        if (events + 1 > maxEvents) {
            throw new BufferFullException("the instance already buffers " + events + " events (mqdet.buffer.max-events " + maxEvents + ")");
        }
        if (bytes + size > maxBytes) {
            throw new BufferFullException("the instance already buffers " + bytes + " bytes and this event has " + size
                    + " (mqdet.buffer.max-bytes " + maxBytes + ")");
        }
        events++;
        bytes += size;
    }

    /** Takes room for an event that is already held (restored after a restart), over the caps if need be. */
    public synchronized void force(long size) {
        events++;
        bytes += size;
    }

    public synchronized void release(int count, long size) {
        events -= count;
        bytes -= size;
    }

    public synchronized int events() {
        return events;
    }

    public synchronized long bytes() {
        return bytes;
    }

    /** The instance's batch buffers are full: the event is dead-lettered (stage {@code buffer}). */
    public static final class BufferFullException extends RuntimeException {
        public BufferFullException(String message) {
            super(message);
        }
    }
}
