package dev.mqdet.schemaregistry;

import dev.mqdet.serde.SerdeException;

/** The registry answered with an error: the HTTP status and the registry's own error code say which. */
public class SchemaRegistryException extends SerdeException {
    private final int status;
    private final int errorCode;

    public SchemaRegistryException(String message, int status, int errorCode) {
        super(message);
        this.status = status;
        this.errorCode = errorCode;
    }

    public SchemaRegistryException(String message, Throwable cause) {
        super(message, cause);
        this.status = -1;
        this.errorCode = -1;
    }

    /** HTTP status, or -1 when no response came. */
    public int status() {
        return status;
    }

    /** The Confluent error code from the response body (e.g. 40401 subject not found), or -1. */
    public int errorCode() {
        return errorCode;
    }
}
