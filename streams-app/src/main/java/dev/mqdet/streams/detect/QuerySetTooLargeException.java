package dev.mqdet.streams.detect;

/** The image event's query set has more categories than this instance runs ({@code mqdet.query-set.max-categories}). */
public final class QuerySetTooLargeException extends RuntimeException {
    public QuerySetTooLargeException(String message) {
        super(message);
    }
}
