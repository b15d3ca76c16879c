package dev.mqdet.inference;

import dev.mqdet.inference.InferenceException.ImageTooLargeException;
import dev.mqdet.inference.InferenceException.InvalidImageException;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import dev.mqdet.images.SafeImageReader;
import dev.mqdet.images.SafeImageReader.UnsafeImageException;
import java.awt.image.BufferedImage;

/**
 * Turns JPEG/PNG bytes into the model's input per {@code model.json}: letterboxed to a square of
 * {@code image_size} (scaled down only when larger, placed top-left), normalised per channel, CHW floats.
 *
 * <p>Safety first: the byte size and the pixel count the header declares are checked before a single pixel is
 * decoded, so a decompression bomb costs nothing; a truncated or corrupt file is refused, never half-read.
 */
public final class ImageDecoder {

    /** An image ready for the network, and what is needed to map boxes back to its pixels. */
    public record PreparedImage(float[] chw, float scale, int width, int height) {}

    private final int size;
    private final float[] mean;
    private final float[] std;
    private final long maxPixels;
    private final int maxBytes;

    public ImageDecoder(ModelPackage pkg, long maxPixels, int maxBytes) {
        this.size = pkg.imageSize();
        this.mean = pkg.mean();
        this.std = pkg.std();
        this.maxPixels = maxPixels;
        this.maxBytes = maxBytes;
    }

    public PreparedImage prepare(byte[] bytes) {
        BufferedImage image = decode(bytes);
        return letterbox(image);
    }

    /** Decodes after checking size, format and declared dimensions (the project's one safe reader). */
    public BufferedImage decode(byte[] bytes) {
        try {
            return SafeImageReader.read(bytes, maxBytes, maxPixels).image();
        } catch (UnsafeImageException e) {
            throw e.tooLarge() ? new ImageTooLargeException(e.getMessage()) : new InvalidImageException(e.getMessage(), e);
        }
    }

    /** Letterbox and normalise: the same rule as the Python side (training/mqdet/data.py). */
    public PreparedImage letterbox(BufferedImage image) {
        int width = image.getWidth();
        int height = image.getHeight();
        float scale = 1f;
        BufferedImage source = image;
        if (Math.max(width, height) > size) {
            scale = (float) size / Math.max(width, height);
            int newWidth = Math.max(1, Math.round(width * scale));
            int newHeight = Math.max(1, Math.round(height * scale));
            source = new BufferedImage(newWidth, newHeight, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = source.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(image, 0, 0, newWidth, newHeight, null);
            g.dispose();
        }
        int w = source.getWidth();
        int h = source.getHeight();
        int[] argb = source.getRGB(0, 0, w, h, null, 0, w);
        float[] chw = new float[3 * size * size]; // padding is 0 after normalisation
        int plane = size * size;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int pixel = argb[y * w + x];
                int offset = y * size + x;
                chw[offset] = (((pixel >> 16) & 0xff) / 255f - mean[0]) / std[0];
                chw[plane + offset] = (((pixel >> 8) & 0xff) / 255f - mean[1]) / std[1];
                chw[2 * plane + offset] = ((pixel & 0xff) / 255f - mean[2]) / std[2];
            }
        }
        return new PreparedImage(chw, scale, width, height);
    }
}
