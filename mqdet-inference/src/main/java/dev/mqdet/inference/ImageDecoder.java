package dev.mqdet.inference;

import dev.mqdet.inference.InferenceException.ImageTooLargeException;
import dev.mqdet.inference.InferenceException.InvalidImageException;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;

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

    /** Decodes after checking size, format and declared dimensions. */
    public BufferedImage decode(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            throw new InvalidImageException("empty image: no bytes");
        }
        if (bytes.length > maxBytes) {
            throw new ImageTooLargeException("image of " + bytes.length + " bytes is above the limit of " + maxBytes + " bytes");
        }
        try (ImageInputStream input = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(input);
            if (!readers.hasNext()) {
                // No bytes in the message: it goes into dead letters, and the bytes may be a fetched file's.
                throw new InvalidImageException("not a JPEG or PNG image (" + bytes.length + " bytes, no known image signature)");
            }
            ImageReader reader = readers.next();
            try {
                String format = reader.getFormatName().toLowerCase(Locale.ROOT);
                if (!format.equals("jpeg") && !format.equals("png")) {
                    throw new InvalidImageException("unsupported image format " + format + ": only JPEG and PNG are accepted");
                }
                reader.setInput(input, true, true);
                int width = reader.getWidth(0);
                int height = reader.getHeight(0);
                if (width <= 0 || height <= 0) {
                    throw new InvalidImageException("image declares " + width + "x" + height + " pixels");
                }
                if ((long) width * height > maxPixels) {
                    throw new ImageTooLargeException("image declares " + width + "x" + height + " = " + (long) width * height
                            + " pixels, above the limit of " + maxPixels + "; refused before decoding");
                }
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((IIOReadWarningListener) (source, warning) -> warnings.add(warning));
                BufferedImage image = reader.read(0);
                if (!warnings.isEmpty()) {
                    throw new InvalidImageException("corrupt or truncated " + format + ": " + String.join("; ", warnings));
                }
                return image;
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidImageException invalid) {
                throw invalid;
            }
            throw new InvalidImageException("corrupt or truncated image (" + bytes.length + " bytes): " + e.getMessage(), e);
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
