package dev.mqdet.streams.detect;

import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.InlineImage;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Makes a decoded event's inline image a read-only view into the record's own bytes, so a buffered event holds its
 * image once (the record value) and not twice (the value and Avro's decoded copy). Avro writes {@code bytes} as a
 * length and the raw bytes, so the image lies in the value as is; it is found after the event's short leading
 * fields and checked byte for byte. Where it cannot be found the decoded copy stays: correct, only larger.
 */
final class InlineImageView {

    private InlineImageView() {}

    /** @return true when the event's image now shares {@code value}'s bytes */
    static boolean share(ImageEvent event, byte[] value) {
        if (!(event.getImage() instanceof InlineImage inline) || value == null) {
            return false;
        }
        ByteBuffer data = inline.getData();
        int length = data.remaining();
        if (length == 0 || length > value.length) {
            return false;
        }
        byte[] image = new byte[Math.min(length, 64)];
        data.duplicate().get(image);
        for (int at = 0; at + length <= value.length; at++) {
            if (value[at] == image[0] && Arrays.equals(value, at, at + image.length, image, 0, image.length)
                    && ByteBuffer.wrap(value, at, length).equals(data.duplicate())) {
                inline.setData(ByteBuffer.wrap(value, at, length).slice().asReadOnlyBuffer());
                return true;
            }
        }
        return false;
    }
}
