package dev.mqdet.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * Root of every error the Avro serdes and the Schema Registry client raise. It is a Kafka
 * {@link SerializationException}, so Kafka clients and Kafka Streams' exception handlers treat it as one;
 * the subclasses say precisely what went wrong.
 */
public class SerdeException extends SerializationException {
    public SerdeException(String message) {
        super(message);
    }

    public SerdeException(String message, Throwable cause) {
        super(message, cause);
    }
}
