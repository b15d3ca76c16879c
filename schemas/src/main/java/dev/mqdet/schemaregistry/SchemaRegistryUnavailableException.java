package dev.mqdet.schemaregistry;

/**
 * The registry could not be reached (connection refused, timeout, or 5xx) after the configured retries.
 * Unlike the other serde errors this one is transient: the record is fine, the registry is not.
 */
public class SchemaRegistryUnavailableException extends SchemaRegistryException {
    public SchemaRegistryUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
