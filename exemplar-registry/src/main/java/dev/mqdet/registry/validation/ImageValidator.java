package dev.mqdet.registry.validation;

import dev.mqdet.registry.config.Limits;
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
 * Checks an exemplar image in the order that keeps a hostile file cheap: byte size, then the format from its magic
 * bytes (JPEG or PNG only, so no other ImageIO reader ever sees the bytes), then width and height read from the
 * header alone and the pixel limit, and only then a full decode that proves the file is a whole, valid image.
 */
public final class ImageValidator {

    /** What a valid image turned out to be. */
    public record ImageInfo(String mediaType, int width, int height) {}

    static {
        // Decoding must not write temporary files: the registry keeps nothing on disk.
        ImageIO.setUseCache(false);
    }

    private final Limits limits;

    public ImageValidator(Limits limits) {
        this.limits = limits;
    }

    /**
     * Validates {@code data}; {@code declaredMediaType} (nullable) must agree with the bytes when given.
     *
     * @throws RefusedException 422 with the error on {@code field} (size limits included: they are the field's fault,
     *     while 413 is kept for a request body or record over its limit)
     */
    public ImageInfo validate(String field, byte[] data, String declaredMediaType) {
        if (data == null || data.length == 0) {
            throw RefusedException.invalid(field, "the image is empty");
        }
        if (data.length > limits.maxImageBytes()) {
            throw RefusedException.invalid(field,
                    "the image is " + data.length + " bytes; at most " + limits.maxImageBytes() + " are allowed");
        }
        String format = sniff(data);
        if (format == null) {
            throw RefusedException.invalid(field, "the image is neither JPEG nor PNG (only those are accepted)");
        }
        String mediaType = "image/" + format;
        if (declaredMediaType != null && !declaredMediaType.isBlank()) {
            String declared = declaredMediaType.trim().toLowerCase(Locale.ROOT);
            if (declared.equals("image/jpg")) {
                declared = "image/jpeg";
            }
            if (!declared.equals(mediaType)) {
                throw RefusedException.invalid(field, "declared media type " + declaredMediaType + " does not match the bytes, which are " + mediaType);
            }
        }
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format);
        if (!readers.hasNext()) {
            throw new IllegalStateException("this JVM has no ImageIO reader for " + format);
        }
        ImageReader reader = readers.next();
        List<String> warnings = new ArrayList<>();
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(data))) {
            reader.setInput(in, true, true);
            int width;
            int height;
            try {
                width = reader.getWidth(0);
                height = reader.getHeight(0);
            } catch (IOException | RuntimeException e) {
                throw RefusedException.invalid(field, "the " + format.toUpperCase(Locale.ROOT) + " header cannot be read: " + e.getMessage());
            }
            if (width <= 0 || height <= 0) {
                throw RefusedException.invalid(field, "the image has no pixels (" + width + "x" + height + ")");
            }
            if ((long) width * height > limits.maxImagePixels()) {
                throw RefusedException.invalid(field, "the image is " + width + "x" + height + " = " + ((long) width * height)
                        + " pixels; at most " + limits.maxImagePixels() + " are allowed");
            }
            reader.addIIOReadWarningListener((IIOReadWarningListener) (source, warning) -> warnings.add(warning));
            BufferedImage decoded;
            try {
                decoded = reader.read(0);
            } catch (IOException | RuntimeException e) {
                throw RefusedException.invalid(field, "the image does not decode: " + e.getMessage());
            }
            if (decoded == null || !warnings.isEmpty()) {
                // A truncated JPEG decodes with a warning and grey pixels: not an exemplar anyone meant to send.
                throw RefusedException.invalid(field, "the image is damaged: " + String.join("; ", warnings));
            }
            return new ImageInfo(mediaType, width, height);
        } catch (IOException e) {
            throw RefusedException.invalid(field, "the image cannot be read: " + e.getMessage());
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
