package dev.mqdet.registry.validation;

import dev.mqdet.images.SafeImageReader;
import dev.mqdet.images.SafeImageReader.DecodedImage;
import dev.mqdet.images.SafeImageReader.UnsafeImageException;
import dev.mqdet.registry.config.Limits;
import java.util.Locale;

/**
 * Checks an exemplar image with the project's one safe image reader ({@link SafeImageReader}: size, magic bytes,
 * header, pixel limit, then a full decode) and the media type the client declared against the bytes.
 */
public final class ImageValidator {

    /** What a valid image turned out to be. */
    public record ImageInfo(String mediaType, int width, int height) {}

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
        DecodedImage image;
        try {
            image = SafeImageReader.read(data, limits.maxImageBytes(), limits.maxImagePixels());
        } catch (UnsafeImageException e) {
            throw RefusedException.invalid(field, e.getMessage());
        }
        if (declaredMediaType != null && !declaredMediaType.isBlank()) {
            String declared = declaredMediaType.trim().toLowerCase(Locale.ROOT);
            if (declared.equals("image/jpg")) {
                declared = "image/jpeg";
            }
            if (!declared.equals(image.mediaType())) {
                throw RefusedException.invalid(field, "declared media type " + declaredMediaType + " does not match the bytes, which are " + image.mediaType());
            }
        }
        return new ImageInfo(image.mediaType(), image.image().getWidth(), image.image().getHeight());
    }
}
