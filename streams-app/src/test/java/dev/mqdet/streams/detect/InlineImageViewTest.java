package dev.mqdet.streams.detect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.ImageReference;
import dev.mqdet.events.InlineImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Map;
import java.util.Random;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

/** A buffered event holds its image once: the decoded image is a view into the record's bytes, not Avro's copy. */
class InlineImageViewTest {

    @Test
    void theDecodedImageSharesTheRecordsBytes() throws IOException {
        byte[] image = new byte[200_000];
        new Random(1).nextBytes(image);
        byte[] value = encode(event(new InlineImage(ByteBuffer.wrap(image), "image/png")));
        ImageEvent decoded = decode(value);
        ByteBuffer copy = ((InlineImage) decoded.getImage()).getData();
        assertThat(copy.hasArray() && copy.array() == value).as("Avro's decoded copy").isFalse();

        assertThat(InlineImageView.share(decoded, value)).isTrue();
        ByteBuffer shared = ((InlineImage) decoded.getImage()).getData();
        assertThat(shared.isReadOnly()).isTrue();
        byte[] read = new byte[shared.remaining()];
        shared.duplicate().get(read);
        assertThat(read).isEqualTo(image);
        assertThat(ImageSourceBytes.of(decoded)).isEqualTo(image);
        int imageStart = 0;
        while (!java.util.Arrays.equals(value, imageStart, imageStart + image.length, image, 0, image.length)) {
            imageStart++;
        }
        value[imageStart + 10] ^= 1;
        assertThat(shared.get(10)).as("a view of the record's bytes, not a copy").isEqualTo(value[imageStart + 10]);
    }

    @Test
    void referencesAndImagesNotFoundInTheValueAreLeftAlone() throws IOException {
        ImageEvent reference = event(new ImageReference("https://example.org/a.png", null));
        assertThat(InlineImageView.share(reference, encode(reference))).isFalse();
        ImageEvent inline = event(new InlineImage(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), "image/png"));
        assertThat(InlineImageView.share(inline, new byte[] {9, 9, 9, 9, 9})).isFalse();
        assertThat(((InlineImage) inline.getImage()).getData().isReadOnly()).isFalse();
    }

    private static ImageEvent event(Object image) {
        return ImageEvent.newBuilder().setEventId("e-1").setSource("cam").setQuerySetId("qs")
                .setCapturedAtMs(Instant.ofEpochMilli(1_000)).setImage(image).setAttributes(Map.of()).build();
    }

    private static byte[] encode(ImageEvent event) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<>(ImageEvent.class).write(event, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    private static ImageEvent decode(byte[] value) throws IOException {
        return new SpecificDatumReader<>(ImageEvent.class).read(null, DecoderFactory.get().binaryDecoder(value, null));
    }

    /** What the fetch step reads of an inline image. */
    private static final class ImageSourceBytes {
        static byte[] of(ImageEvent event) {
            return ImageSource.copy(((InlineImage) event.getImage()).getData());
        }
    }
}
