package dev.mqdet.streams.track;

import dev.mqdet.inference.Box;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/** A source's tracker state as its changelogged store keeps it: a versioned binary layout of our own (internal, never registered). */
final class SourceTrackerSerde {

    private static final int FORMAT = 1;

    private SourceTrackerSerde() {}

    static Serde<SourceTracker> serde() {
        Serializer<SourceTracker> serializer = (topic, tracker) -> tracker == null ? null : write(tracker);
        Deserializer<SourceTracker> deserializer = (topic, bytes) -> bytes == null ? null : read(bytes);
        return Serdes.serdeFrom(serializer, deserializer);
    }

    static byte[] write(SourceTracker tracker) {
        try {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream(256);
            DataOutputStream out = new DataOutputStream(buffer);
            out.writeByte(FORMAT);
            out.writeUTF(tracker.source);
            out.writeInt(tracker.nextNumber);
            out.writeLong(tracker.lastTakenCaptureMs);
            out.writeLong(tracker.lastArrivalMs);
            out.writeInt(tracker.tracks.size());
            for (Track t : tracker.tracks) {
                out.writeInt(t.number);
                out.writeUTF(t.categoryId);
                writeNullable(out, t.label);
                writeBox(out, t.box);
                out.writeFloat(t.vx);
                out.writeFloat(t.vy);
                out.writeFloat(t.score);
                out.writeFloat(t.bestScore);
                out.writeLong(t.firstSeenMs);
                out.writeLong(t.lastSeenMs);
                out.writeInt(t.frameCount);
                out.writeInt(t.missed);
                writeBox(out, t.publishedBox);
                out.writeFloat(t.publishedScore);
                out.writeInt(t.eventIds.size());
                for (String id : t.eventIds) {
                    out.writeUTF(id);
                }
            }
            out.writeInt(tracker.pending.size());
            for (Frame f : tracker.pending) {
                out.writeUTF(f.eventId());
                out.writeLong(f.capturedAtMs());
                out.writeLong(f.arrivedAtMs());
                out.writeInt(f.detections().size());
                for (Frame.Found d : f.detections()) {
                    out.writeUTF(d.categoryId());
                    writeNullable(out, d.label());
                    out.writeFloat(d.score());
                    writeBox(out, d.box());
                }
            }
            return buffer.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static SourceTracker read(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            int format = in.readByte();
            if (format != FORMAT) {
                throw new IllegalStateException("tracker state of unknown format " + format);
            }
            SourceTracker tracker = new SourceTracker(in.readUTF());
            tracker.nextNumber = in.readInt();
            tracker.lastTakenCaptureMs = in.readLong();
            tracker.lastArrivalMs = in.readLong();
            for (int i = in.readInt(); i > 0; i--) {
                int number = in.readInt();
                String category = in.readUTF();
                String label = readNullable(in);
                Box box = readBox(in);
                float vx = in.readFloat();
                float vy = in.readFloat();
                float score = in.readFloat();
                float best = in.readFloat();
                long first = in.readLong();
                Track t = new Track(number, category, label, box, score, first);
                t.vx = vx;
                t.vy = vy;
                t.bestScore = best;
                t.lastSeenMs = in.readLong();
                t.frameCount = in.readInt();
                t.missed = in.readInt();
                t.publishedBox = readBox(in);
                t.publishedScore = in.readFloat();
                for (int n = in.readInt(); n > 0; n--) {
                    t.eventIds.addLast(in.readUTF());
                }
                tracker.tracks.add(t);
            }
            for (int i = in.readInt(); i > 0; i--) {
                String eventId = in.readUTF();
                long captured = in.readLong();
                long arrived = in.readLong();
                List<Frame.Found> found = new ArrayList<>();
                for (int n = in.readInt(); n > 0; n--) {
                    found.add(new Frame.Found(in.readUTF(), readNullable(in), in.readFloat(), readBox(in)));
                }
                tracker.pending.add(new Frame(eventId, captured, arrived, found));
            }
            return tracker;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeBox(DataOutputStream out, Box box) throws IOException {
        out.writeFloat(box.x1());
        out.writeFloat(box.y1());
        out.writeFloat(box.x2());
        out.writeFloat(box.y2());
    }

    private static Box readBox(DataInputStream in) throws IOException {
        return new Box(in.readFloat(), in.readFloat(), in.readFloat(), in.readFloat());
    }

    private static void writeNullable(DataOutputStream out, String value) throws IOException {
        out.writeBoolean(value != null);
        if (value != null) {
            out.writeUTF(value);
        }
    }

    private static String readNullable(DataInputStream in) throws IOException {
        return in.readBoolean() ? in.readUTF() : null;
    }
}
