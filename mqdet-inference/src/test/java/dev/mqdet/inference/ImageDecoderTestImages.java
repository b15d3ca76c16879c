package dev.mqdet.inference;

import java.io.IOException;
import java.io.UncheckedIOException;

/** PNG bytes of a test picture. */
final class ImageDecoderTestImages {
    private ImageDecoderTestImages() {}

    static byte[] png(int width, int height) {
        try {
            return ImageDecoderTest.encode(ImageDecoderTest.picture(width, height), "png");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
