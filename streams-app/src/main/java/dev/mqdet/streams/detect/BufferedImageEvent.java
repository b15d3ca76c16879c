package dev.mqdet.streams.detect;

import dev.mqdet.streams.DeadLetters.Origin;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import org.apache.kafka.common.utils.Bytes;

/**
 * An image event waiting in the batch buffer: the original key and value bytes exactly as read, where they
 * came from, and the record timestamp. Kept in a changelogged store, so a crash loses nothing buffered.
 *
 * <p>In the store, everything but the value goes into the entry's key ({@link #storeKey}) and the value is the
 * record's value array itself, not a copy: the store, its cache and the decoded event's inline image (see
 * {@link InlineImageView}) all point at the one array the consumer read, so a buffered event's bytes are on the
 * heap once. Keys start with the buffer sequence, so the store iterates in arrival order.
 */
public record BufferedImageEvent(Origin origin, long timestampMs, long bufferedAtMs, byte[] key, byte[] value) {

    /** A buffered event as found in the store, with its buffer sequence and the key it is stored under. */
    record Stored(long sequence, Bytes storeKey, BufferedImageEvent event) {}

    private static final byte KEY_FORMAT = 2;
    private static final int LEGACY_KEY_LENGTH = Long.BYTES; // format 1: the sequence alone, everything in the value

    /** The key this event is stored under: format, sequence (big-endian, so byte order is arrival order), origin, times, record key. */
    Bytes storeKey(long sequence) {
        try {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream(64 + (key == null ? 0 : key.length));
            DataOutputStream out = new DataOutputStream(buffer);
            out.writeByte(KEY_FORMAT);
            out.writeLong(sequence);
            out.writeUTF(origin.topic());
            out.writeInt(origin.partition());
            out.writeLong(origin.offset());
            out.writeLong(timestampMs);
            out.writeLong(bufferedAtMs);
            writeBytes(out, key);
            return Bytes.wrap(buffer.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads a store entry back: this format, or format 1 (a sequence key and a serialized value) left by an older version. */
    static Stored fromStore(Bytes storeKey, byte[] value) {
        byte[] key = storeKey.get();
        if (key.length == LEGACY_KEY_LENGTH) {
            return new Stored(ByteBuffer.wrap(key).getLong(), storeKey, fromLegacyValue(value));
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(key))) {
            int format = in.readByte();
            if (format != KEY_FORMAT) {
                throw new IllegalStateException("buffered image event of unknown format " + format);
            }
            long sequence = in.readLong();
            Origin origin = new Origin(in.readUTF(), in.readInt(), in.readLong());
            long timestamp = in.readLong();
            long bufferedAt = in.readLong();
            return new Stored(sequence, storeKey, new BufferedImageEvent(origin, timestamp, bufferedAt, readBytes(in), value));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static BufferedImageEvent fromLegacyValue(byte[] bytes) {
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
