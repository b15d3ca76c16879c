package dev.mqdet.images;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;

/**
 * The one way this project decodes an image that came from outside (an exemplar at the registry, an image event in
 * the pipeline), in the order that keeps a hostile file cheap: byte size, then the format from its magic bytes (JPEG
 * or PNG only, so no other ImageIO reader ever sees the bytes), then width and height from the header alone against
 * the pixel limit, and only then a full decode that must end without a warning (a truncated JPEG decodes with one,
 * into grey pixels). Error messages never quote the bytes.
 */
public final class SafeImageReader {
    private SafeImageReader() {}

    static {
        // Decoding must not write temporary files.
        ImageIO.setUseCache(false);
    }

    /** What is wrong with an image, so callers can map size problems and broken files to their own errors. */
    public enum Problem { EMPTY, TOO_MANY_BYTES, NOT_JPEG_OR_PNG, BAD_HEADER, NO_PIXELS, TOO_MANY_PIXELS, DAMAGED }

    /** An image refused before or while decoding, with what is wrong. */
    public static final class UnsafeImageException extends RuntimeException {
        private final Problem problem;

        UnsafeImageException(Problem problem, String message) {
            super(message);
            this.problem = problem;
        }

        public Problem problem() {
            return problem;
        }

        /** Too many bytes or pixels: the image may be fine, only larger than this deployment accepts. */
        public boolean tooLarge() {
            return problem == Problem.TOO_MANY_BYTES || problem == Problem.TOO_MANY_PIXELS;
        }
    }

    /** A decoded image and its format ("jpeg" or "png"). */
    public record DecodedImage(String format, BufferedImage image) {
        public String mediaType() {
            return "image/" + format;
        }
    }

    /** Decodes {@code data} after every check above; throws {@link UnsafeImageException} saying what is wrong. */
    public static DecodedImage read(byte[] data, long maxBytes, long maxPixels) {
        if (data == null || data.length == 0) {
            throw new UnsafeImageException(Problem.EMPTY, "the image is empty");
        }
        if (data.length > maxBytes) {
            throw new UnsafeImageException(Problem.TOO_MANY_BYTES, "the image is " + data.length + " bytes; at most " + maxBytes + " are allowed");
        }
        String format = sniff(data);
        if (format == null) {
            throw new UnsafeImageException(Problem.NOT_JPEG_OR_PNG, "the image (" + data.length + " bytes) is neither JPEG nor PNG (only those are accepted)");
        }
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format);
        if (!readers.hasNext()) {
            throw new IllegalStateException("this JVM has no ImageIO reader for " + format);
        }
        ImageReader reader = readers.next();
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(data))) {
            reader.setInput(in, true, true);
            int width;
            int height;
            try {
                width = reader.getWidth(0);
                height = reader.getHeight(0);
            } catch (IOException | RuntimeException e) {
                throw new UnsafeImageException(Problem.BAD_HEADER, "the " + format + " header cannot be read: " + e.getMessage());
            }
            if (width <= 0 || height <= 0) {
                throw new UnsafeImageException(Problem.NO_PIXELS, "the image has no pixels (" + width + "x" + height + ")");
            }
            if ((long) width * height > maxPixels) {
                throw new UnsafeImageException(Problem.TOO_MANY_PIXELS, "the image is " + width + "x" + height + " = " + ((long) width * height)
                        + " pixels; at most " + maxPixels + " are allowed; refused before decoding");
            }
            List<String> warnings = new ArrayList<>();
            reader.addIIOReadWarningListener((IIOReadWarningListener) (source, warning) -> warnings.add(warning));
            BufferedImage decoded;
            try {
                decoded = reader.read(0);
            } catch (IOException | RuntimeException e) {
                throw new UnsafeImageException(Problem.DAMAGED, "the " + format + " image does not decode: " + e.getMessage());
            }
            if (decoded == null || !warnings.isEmpty()) {
                throw new UnsafeImageException(Problem.DAMAGED, "the " + format + " image is damaged: " + String.join("; ", warnings));
            }
            return new DecodedImage(format, decoded);
        } catch (IOException e) {
            throw new UnsafeImageException(Problem.DAMAGED, "the " + format + " image cannot be read: " + e.getMessage());
        } finally {
            reader.dispose();
        }
    }

    /** "jpeg", "png", or null, from the first bytes. */
    public static String sniff(byte[] data) {
        if (data.length >= 8 && (data[0] & 0xff) == 0x89 && data[1] == 'P' && data[2] == 'N' && data[3] == 'G'
                && data[4] == 0x0d && data[5] == 0x0a && data[6] == 0x1a && data[7] == 0x0a) {
            return "png";
        }
        if (data.length >= 3 && (data[0] & 0xff) == 0xff && (data[1] & 0xff) == 0xd8 && (data[2] & 0xff) == 0xff) {
            return "jpeg";
        }
        return null;
    }
}
