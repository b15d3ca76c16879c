package dev.mqdet.inference;

import dev.mqdet.inference.InferenceException.ImageTooLargeException;
import dev.mqdet.inference.InferenceException.InvalidImageException;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import dev.mqdet.images.SafeImageReader;
import dev.mqdet.images.SafeImageReader.UnsafeImageException;
import java.awt.image.BufferedImage;

/**
 * Turns JPEG/PNG bytes into the model's input per {@code model.json} {@code image} ({@link ImageRule}): resized
 * bilinearly (down or up, as the rule says), channels in the model's order and value scale, normalised, CHW
 * floats of the content only; the translator pads a batch onto one canvas.
 *
 * <p>Safety first: the byte size and the pixel count the header declares are checked before a single pixel is
 * decoded, so a decompression bomb costs nothing; a truncated or corrupt file is refused, never half-read.
 */
public final class ImageDecoder {

    /**
     * An image ready for the network: {@code chw} holds {@code 3 x inputHeight x inputWidth} floats; {@code width}
     * and {@code height} are the original pixels that boxes map back to.
     */
    public record PreparedImage(float[] chw, int inputWidth, int inputHeight, int width, int height) {
        /** Network pixels per original pixel along x; boxes in original pixels times this are network pixels. */
        public float scaleX() {
            return (float) inputWidth / width;
        }

        public float scaleY() {
            return (float) inputHeight / height;
        }

        /** An original-pixel box in network pixels. */
        public Box toInput(Box box) {
            return new Box(box.x1() * scaleX(), box.y1() * scaleY(), box.x2() * scaleX(), box.y2() * scaleY());
        }

        /** A network-pixel box in original pixels, clipped to the image. */
        public Box toOriginal(Box box) {
            return new Box(box.x1() / scaleX(), box.y1() / scaleY(), box.x2() / scaleX(), box.y2() / scaleY()).clippedTo(width, height);
        }
    }

    private final ImageRule rule;
    private final long maxPixels;
    private final int maxBytes;

    public ImageDecoder(ModelPackage pkg, long maxPixels, int maxBytes) {
        this.rule = pkg.imageRule();
        this.maxPixels = maxPixels;
        this.maxBytes = maxBytes;
    }

    public PreparedImage prepare(byte[] bytes) {
        return prepare(decode(bytes));
    }

    /** Decodes after checking size, format and declared dimensions (the project's one safe reader). */
    public BufferedImage decode(byte[] bytes) {
        try {
            return SafeImageReader.read(bytes, maxBytes, maxPixels).image();
        } catch (UnsafeImageException e) {
            throw e.tooLarge() ? new ImageTooLargeException(e.getMessage()) : new InvalidImageException(e.getMessage(), e);
        }
    }

    /** Resize and normalise a decoded image by the model's rule. */
    public PreparedImage prepare(BufferedImage image) {
        int width = image.getWidth();
        int height = image.getHeight();
        ImageRule.InputSize input = rule.inputSize(width, height);
        BufferedImage source = image;
        if (input.width() != width || input.height() != height) {
            source = new BufferedImage(input.width(), input.height(), BufferedImage.TYPE_INT_RGB);
            Graphics2D g = source.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(image, 0, 0, input.width(), input.height(), null);
            g.dispose();
        }
        int w = input.width();
        int h = input.height();
        int[] argb = source.getRGB(0, 0, w, h, null, 0, w);
        int plane = w * h;
        float[] chw = new float[3 * plane];
        int red = rule.bgr() ? 2 : 0;
        int blue = rule.bgr() ? 0 : 2;
        for (int i = 0; i < plane; i++) {
            int pixel = argb[i];
            chw[red * plane + i] = rule.normalise((pixel >> 16) & 0xff, red);
            chw[plane + i] = rule.normalise((pixel >> 8) & 0xff, 1);
            chw[blue * plane + i] = rule.normalise(pixel & 0xff, blue);
        }
        return new PreparedImage(chw, w, h, width, height);
    }

    /** A blank image of {@code width x height} original pixels, for probes. */
    public PreparedImage blank(int width, int height) {
        ImageRule.InputSize input = rule.inputSize(width, height);
        return new PreparedImage(new float[3 * input.width() * input.height()], input.width(), input.height(), width, height);
    }
}
