package dev.mqdet.streams.detect;

import dev.mqdet.streams.detect.QuerySets.QuerySet;
import java.util.List;

/**
 * Events of one query set handed to inference together, and when: {@code dispatchedAtMs} on the stream's clock
 * (the one buffering times use), {@code dispatchedAtNanos} on the JVM's monotonic clock (the one the worker uses).
 */
record Batch(QuerySet querySet, List<Pending> events, long dispatchedAtMs, long dispatchedAtNanos) {}
