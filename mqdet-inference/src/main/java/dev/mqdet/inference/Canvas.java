package dev.mqdet.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mqdet.inference.ImageDecoder.PreparedImage;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * A batch of prepared images of different sizes on one canvas, as GLIP batches them: each image at the top-left,
 * the canvas as large as the largest, rounded up to the model's {@code pad_to_multiple}, the rest at
 * {@code pad_value}; the model gets each image's own size beside it.
 */
record Canvas(List<PreparedImage> images, int height, int width, float padValue) {

    static Canvas of(ImageRule rule, List<PreparedImage> images) {
        int height = 0;
        int width = 0;
        for (PreparedImage image : images) {
            height = Math.max(height, image.inputHeight());
            width = Math.max(width, image.inputWidth());
        }
        return new Canvas(images, rule.canvasSide(height), rule.canvasSide(width), rule.padValue());
    }

    /** {@code [B, 3, height, width]} floats. */
    NDArray pixels(NDManager manager) {
        int plane = height * width;
        float[] pixels = new float[images.size() * 3 * plane];
        if (padValue != 0f) {
            Arrays.fill(pixels, padValue);
        }
        for (int b = 0; b < images.size(); b++) {
            PreparedImage image = images.get(b);
            int w = image.inputWidth();
            int h = image.inputHeight();
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < h; y++) {
                    System.arraycopy(image.chw(), (c * h + y) * w, pixels, (b * 3 + c) * plane + y * width, w);
                }
            }
        }
        return manager.create(FloatBuffer.wrap(pixels), new Shape(images.size(), 3, height, width));
    }

    /** {@code [B, 2]}: each image's (height, width) in network pixels, without the padding. */
    NDArray sizes(NDManager manager) {
        long[] sizes = new long[images.size() * 2];
        for (int b = 0; b < images.size(); b++) {
            sizes[2 * b] = images.get(b).inputHeight();
            sizes[2 * b + 1] = images.get(b).inputWidth();
        }
        return manager.create(sizes, new Shape(images.size(), 2));
    }
}
