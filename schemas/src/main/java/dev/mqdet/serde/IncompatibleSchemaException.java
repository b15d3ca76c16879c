package dev.mqdet.serde;

/**
 * A schema change broke the compatibility rule: the registry refused to register it, or data written with one
 * schema cannot be read with the reader's schema (for example a required field the writer did not have).
 */
public class IncompatibleSchemaException extends SerdeException {
    public IncompatibleSchemaException(String message) {
        super(message);
    }

    public IncompatibleSchemaException(String message, Throwable cause) {
        super(message, cause);
    }
}
