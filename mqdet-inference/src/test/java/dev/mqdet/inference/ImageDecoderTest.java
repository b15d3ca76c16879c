package dev.mqdet.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mqdet.inference.ImageDecoder.PreparedImage;
import dev.mqdet.inference.InferenceException.ImageTooLargeException;
import dev.mqdet.inference.InferenceException.InvalidImageException;
import dev.mqdet.testkit.TestImages;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ImageDecoderTest {

    private static ImageDecoder decoder;

    @BeforeAll
    static void setUp() {
        decoder = new ImageDecoder(TestModels.shippedPackage(), 4_000_000L, 8 << 20);
    }

    @Test
    void emptyBytesAreRefused() {
        assertThatThrownBy(() -> decoder.prepare(new byte[0])).isExactlyInstanceOf(InvalidImageException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> decoder.prepare((byte[]) null)).isExactlyInstanceOf(InvalidImageException.class);
    }

    @Test
    void nonImageBytesAreRefused() {
        assertThatThrownBy(() -> decoder.prepare("{\"not\": \"an image\"}".getBytes(StandardCharsets.UTF_8)))
                .isExactlyInstanceOf(InvalidImageException.class).hasMessageContaining("neither JPEG nor PNG");
    }

    @Test
    void theRefusalNamesNoneOfTheBytes() {
        // The message goes into a dead letter; the bytes may be a file's that was fetched by URI.
        byte[] secret = "root:x:0:0:root:/root:/bin/bash".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> decoder.prepare(secret)).isExactlyInstanceOf(InvalidImageException.class)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("root").doesNotContain("726f6f74").contains(secret.length + " bytes"));
    }

    @Test
    void otherFormatsAreRefused() throws IOException {
        assertThatThrownBy(() -> decoder.prepare(encode(picture(40, 30), "gif")))
                .isExactlyInstanceOf(InvalidImageException.class).hasMessageContaining("neither JPEG nor PNG");
    }

    @Test
    void truncatedPngAndJpegAreRefused() throws IOException {
        byte[] png = encode(picture(200, 150), "png");
        byte[] jpeg = encode(picture(200, 150), "jpeg");
        assertThatThrownBy(() -> decoder.prepare(Arrays.copyOf(png, png.length / 2))).isInstanceOf(InvalidImageException.class);
        assertThatThrownBy(() -> decoder.prepare(Arrays.copyOf(jpeg, jpeg.length / 2)))
                .isInstanceOf(InvalidImageException.class).hasMessageContaining("jpeg");
    }

    @Test
    void corruptPixelDataIsRefused() throws IOException {
        byte[] png = encode(picture(200, 150), "png");
        for (int i = 60; i < png.length - 20; i += 7) {
            png[i] ^= 0x5a;
        }
        assertThatThrownBy(() -> decoder.prepare(png)).isInstanceOf(InvalidImageException.class);
    }

    @Test
    void decompressionBombIsRefusedFromItsHeaderAlone() throws IOException {
        byte[] bomb = TestImages.pngHeaderOnly(100_000, 100_000); // 10^10 pixels declared in 33 bytes
        long started = System.nanoTime();
        assertThatThrownBy(() -> decoder.prepare(bomb))
                .isExactlyInstanceOf(ImageTooLargeException.class)
                .hasMessageContaining("100000x100000")
                .hasMessageContaining("refused before decoding");
        assertThat((System.nanoTime() - started) / 1_000_000).as("ms spent refusing").isLessThan(2_000);
    }

    @Test
    void zeroDimensionsAreRefused() throws IOException {
        assertThatThrownBy(() -> decoder.prepare(TestImages.pngHeaderOnly(0, 10))).isInstanceOf(InvalidImageException.class);
    }

    @Test
    void tooManyBytesAreRefused() {
        ImageDecoder strict = new ImageDecoder(TestModels.shippedPackage(), 4_000_000L, 1_000);
        assertThatThrownBy(() -> strict.prepare(new byte[1_001])).isExactlyInstanceOf(ImageTooLargeException.class);
    }

    @Test
    void largeImagesAreLetterboxedSmallOnesKeptAtScaleOne() throws IOException {
        int size = TestModels.shippedPackage().imageRule().size();
        PreparedImage large = decoder.prepare(encode(picture(2 * size, size), "png"));
        assertThat(large.scaleX()).isEqualTo(0.5f);
        assertThat(large.scaleY()).isEqualTo(0.5f);
        assertThat(large.width()).isEqualTo(2 * size);
        PreparedImage small = decoder.prepare(encode(picture(100, 80), "png"));
        assertThat(small.scaleX()).isEqualTo(1f);
        assertThat(small.chw()).hasSize(3 * 100 * 80);
        ImageRule rule = TestModels.shippedPackage().imageRule();
        assertThat(small.chw()[0]).as("red of a white pixel").isCloseTo((1f - rule.mean()[0]) / rule.std()[0], org.assertj.core.data.Offset.offset(1e-6f));
    }

    @Test
    void eachAxisKeepsItsOwnScaleSoBoxesMapBackExactly() throws IOException {
        PreparedImage odd = decoder.prepare(encode(picture(999, 333), "png"));
        assertThat(odd.inputWidth()).isEqualTo(320);
        assertThat(odd.inputHeight()).isEqualTo(107); // round(333 * 320 / 999) = round(106.67)
        Box original = new Box(10, 20, 900, 300);
        Box back = odd.toOriginal(odd.toInput(original));
        assertThat(back.x1()).isCloseTo(10f, org.assertj.core.data.Offset.offset(1e-3f));
        assertThat(back.y2()).isCloseTo(300f, org.assertj.core.data.Offset.offset(1e-3f));
    }

    static BufferedImage picture(int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.RED);
        g.fillOval(width / 4, height / 4, width / 2, height / 2);
        g.dispose();
        return image;
    }

    static byte[] encode(BufferedImage image, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, format, out);
        return out.toByteArray();
    }
}
