package dev.mqdet.streams.detect;

/** An image event that decodes but breaks a rule of the contract (its event id, say). */
public final class InvalidImageEventException extends RuntimeException {
    public InvalidImageEventException(String message) {
        super(message);
    }
}
