package dev.mqdet.serde;

/** The bytes are not a valid Confluent-wire-format Avro record: empty, truncated, trailing bytes, or undecodable. */
public class MalformedPayloadException extends SerdeException {
    public MalformedPayloadException(String message) {
        super(message);
    }

    public MalformedPayloadException(String message, Throwable cause) {
        super(message, cause);
    }
}
