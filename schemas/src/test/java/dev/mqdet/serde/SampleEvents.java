package dev.mqdet.serde;

import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.ImageReference;
import dev.mqdet.events.InlineImage;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/** Image events for serde tests. */
final class SampleEvents {
    private SampleEvents() {}

    static ImageEvent inline(String eventId, byte[] imageBytes) {
        return ImageEvent.newBuilder()
                .setEventId(eventId)
                .setSource("camera-7")
                .setQuerySetId("wildlife")
                .setCapturedAtMs(Instant.ofEpochMilli(1_764_000_000_000L))
                .setImage(InlineImage.newBuilder().setData(ByteBuffer.wrap(imageBytes)).setMediaType("image/png").build())
                .setAttributes(Map.of("site", "pond-3"))
                .build();
    }

    static ImageEvent byReference(String uri) {
        return ImageEvent.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setSource("camera-8")
                .setQuerySetId("wildlife")
                .setCapturedAtMs(Instant.ofEpochMilli(1_764_000_000_001L))
                .setImage(ImageReference.newBuilder().setUri(uri).build())
                .build();
    }
}
