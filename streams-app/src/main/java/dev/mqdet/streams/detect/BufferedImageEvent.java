package dev.mqdet.streams.detect;

import dev.mqdet.streams.DeadLetters.Origin;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * An image event waiting in the batch buffer: the original key and value bytes exactly as read, where they
 * came from, and the record timestamp. Kept in a changelogged store, so a crash loses nothing buffered.
 */
public record BufferedImageEvent(Origin origin, long timestampMs, long bufferedAtMs, byte[] key, byte[] value) {

    public static Serde<BufferedImageEvent> serde() {
        return Serdes.serdeFrom((topic, event) -> event == null ? null : event.toBytes(),
                (topic, bytes) -> bytes == null ? null : fromBytes(bytes));
    }

    private byte[] toBytes() {
        try {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream(value.length + 128);
            DataOutputStream out = new DataOutputStream(buffer);
            out.writeByte(1); // format version
            out.writeUTF(origin.topic());
            out.writeInt(origin.partition());
            out.writeLong(origin.offset());
            out.writeLong(timestampMs);
            out.writeLong(bufferedAtMs);
            writeBytes(out, key);
            writeBytes(out, value);
            return buffer.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static BufferedImageEvent fromBytes(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            int version = in.readByte();
            if (version != 1) {
                throw new IllegalStateException("buffered image event of unknown format version " + version);
            }
            Origin origin = new Origin(in.readUTF(), in.readInt(), in.readLong());
            long timestamp = in.readLong();
            long bufferedAt = in.readLong();
            return new BufferedImageEvent(origin, timestamp, bufferedAt, readBytes(in), readBytes(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeBytes(DataOutputStream out, byte[] bytes) throws IOException {
        out.writeInt(bytes == null ? -1 : bytes.length);
        if (bytes != null) {
            out.write(bytes);
        }
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int length = in.readInt();
        return length < 0 ? null : in.readNBytes(length);
    }
}
