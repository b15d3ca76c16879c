package dev.mqdet.serde;

import java.nio.ByteBuffer;

/**
 * The Confluent wire format: magic byte 0, the schema id as a 4-byte big-endian int, then the Avro binary
 * encoding of the record. Parsing checks the frame before anything is decoded.
 */
public final class WireFormat {

    public static final byte MAGIC_BYTE = 0;
    public static final int HEADER_SIZE = 5;

    private WireFormat() {}

    /** The parts of a framed payload: the schema id, and where the Avro body starts. */
    public record Frame(int schemaId, byte[] payload, int bodyOffset) {
        public int bodyLength() {
            return payload.length - bodyOffset;
        }
    }

    public static Frame parse(byte[] payload) {
        if (payload.length == 0) {
            throw new MalformedPayloadException("empty payload: a Confluent-wire-format record has at least "
                    + HEADER_SIZE + " bytes (magic byte, 4-byte schema id)");
        }
        if (payload[0] != MAGIC_BYTE) {
            throw new UnknownMagicByteException(payload[0]);
        }
        if (payload.length < HEADER_SIZE) {
            throw new MalformedPayloadException("truncated payload: " + payload.length + " bytes, the header alone is "
                    + HEADER_SIZE + " (magic byte, 4-byte schema id)");
        }
        int schemaId = ByteBuffer.wrap(payload, 1, 4).getInt();
        return new Frame(schemaId, payload, HEADER_SIZE);
    }

    public static byte[] header(int schemaId) {
        return ByteBuffer.allocate(HEADER_SIZE).put(MAGIC_BYTE).putInt(schemaId).array();
    }
}
