package dev.mqdet.streams.detect;

/** The image event names a query set with no categories encoded for this model, even after waiting. */
public final class UnknownQuerySetException extends RuntimeException {
    public UnknownQuerySetException(String message) {
        super(message);
    }
}
