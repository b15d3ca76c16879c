package dev.mqdet.registry.store;

/** Kafka or the Schema Registry could not take a write; nothing was written (the transaction was aborted). HTTP 503. */
public final class StoreUnavailableException extends RuntimeException {
    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
