package dev.mqdet.streams;

import dev.mqdet.events.DeadLetter;
import java.nio.ByteBuffer;
import java.time.Instant;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/** Builds dead letters: the original bytes, where they came from, and why they were refused. */
public final class DeadLetters {
    private DeadLetters() {}

    /** Where a record came from; kept with buffered records, whose record context is gone by the time they fail. */
    public record Origin(String topic, int partition, long offset) {
        public static Origin of(RecordMetadata metadata) {
            return new Origin(metadata.topic(), metadata.partition(), metadata.offset());
        }
    }

    public static DeadLetter of(Origin origin, byte[] key, byte[] value, String eventId, String stage, Throwable error) {
        String message = error.getMessage() == null ? error.toString() : error.getMessage();
        return DeadLetter.newBuilder()
                .setSourceTopic(origin.topic())
                .setSourcePartition(origin.partition())
                .setSourceOffset(origin.offset())
                .setOriginalKey(key == null ? null : ByteBuffer.wrap(key))
                .setOriginalValue(value == null ? null : ByteBuffer.wrap(value))
                .setEventId(eventId)
                .setStage(stage)
                .setErrorClass(error.getClass().getName())
                .setErrorMessage(message.length() > 2_000 ? message.substring(0, 2_000) + "..." : message)
                .setFailedAtMs(Instant.now())
                .build();
    }
}
