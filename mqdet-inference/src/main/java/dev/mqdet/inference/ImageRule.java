package dev.mqdet.inference;

/**
 * The model's image pre-processing, read from {@code model.json} {@code image}: how an image of any size and aspect
 * becomes network input, and back. Two resize rules: {@code letterbox} (longer side to {@code size}, optionally
 * never enlarging) and GLIP's {@code shorter_side} (shorter side to {@code min_size}, longer side capped at
 * {@code max_size}, enlarging too). Content sits at the top-left of a canvas padded to {@code pad_to_multiple}.
 *
 * <p>Each axis keeps its own scale ({@code inputWidth / width}, {@code inputHeight / height}), so boxes map back to
 * original pixels exactly whatever the rounding did to the aspect ratio.
 */
public record ImageRule(Resize resize, int size, boolean upscale, int minSize, int maxSize, int padToMultiple,
                        boolean bgr, float valueScale, float[] mean, float[] std, float padValue) {

    public enum Resize { LETTERBOX, SHORTER_SIDE }

    /** Network-input size of the content of a {@code width x height} image. */
    public record InputSize(int width, int height) {}

    public InputSize inputSize(int width, int height) {
        if (resize == Resize.LETTERBOX) {
            double scale = (double) size / Math.max(width, height);
            if (!upscale && scale > 1) {
                scale = 1;
            }
            return new InputSize(Math.max(1, (int) Math.floor(width * scale + 0.5)), Math.max(1, (int) Math.floor(height * scale + 0.5)));
        }
        // maskrcnn_benchmark's Resize.get_size, as GLIP uses it
        double shorter = Math.min(width, height);
        double longer = Math.max(width, height);
        int target = minSize;
        if (longer / shorter * target > maxSize) {
            target = (int) Math.floor(maxSize * shorter / longer + 0.5);
        }
        if (width <= height) {
            return new InputSize(target, Math.max(1, (int) Math.floor((double) target * height / width)));
        }
        return new InputSize(Math.max(1, (int) Math.floor((double) target * width / height)), target);
    }

    /** Canvas side for content of {@code side} pixels: the letterbox square at least, rounded up to the multiple. */
    public int canvasSide(int side) {
        int at = resize == Resize.LETTERBOX ? Math.max(side, size) : side;
        return (at + padToMultiple - 1) / padToMultiple * padToMultiple;
    }

    /** The normalised value of one 8-bit channel value of channel {@code c} (in the model's channel order). */
    public float normalise(int value, int c) {
        return (value * (valueScale / 255f) - mean[c]) / std[c];
    }
}
