package dev.mqdet.serde;

/** The first byte is not the Confluent wire format's magic byte 0: the record was not written by a registry-aware serializer. */
public class UnknownMagicByteException extends MalformedPayloadException {
    private final byte magicByte;

    public UnknownMagicByteException(byte magicByte) {
        super(String.format("unknown magic byte 0x%02x at offset 0; expected 0x00 (Confluent wire format: "
                + "magic byte 0, 4-byte schema id, Avro binary)", magicByte));
        this.magicByte = magicByte;
    }

    public byte magicByte() {
        return magicByte;
    }
}
