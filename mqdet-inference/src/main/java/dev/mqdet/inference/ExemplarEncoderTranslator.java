package dev.mqdet.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslatorContext;
import dev.mqdet.inference.ImageDecoder.PreparedImage;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The exemplar encoder's translator: one prepared image (on its own canvas, as the detector pads it) and its
 * exemplar boxes in original pixels in, one vector per box out.
 */
final class ExemplarEncoderTranslator implements NoBatchifyTranslator<ExemplarEncoderTranslator.Input, List<float[]>> {

    record Input(PreparedImage image, List<Box> boxes) {}

    private final ModelPackage pkg;

    ExemplarEncoderTranslator(ModelPackage pkg) {
        this.pkg = pkg;
    }

    @Override
    public NDList processInput(TranslatorContext ctx, Input input) {
        float[] boxes = new float[input.boxes().size() * 4];
        for (int i = 0; i < input.boxes().size(); i++) {
            Box box = input.image().toInput(input.boxes().get(i));
            boxes[4 * i] = box.x1();
            boxes[4 * i + 1] = box.y1();
            boxes[4 * i + 2] = box.x2();
            boxes[4 * i + 3] = box.y2();
        }
        Canvas canvas = Canvas.of(pkg.imageRule(), List.of(input.image()));
        return new NDList(
                canvas.pixels(ctx.getNDManager()),
                canvas.sizes(ctx.getNDManager()),
                ctx.getNDManager().create(FloatBuffer.wrap(boxes), new Shape(input.boxes().size(), 4)));
    }

    @Override
    public List<float[]> processOutput(TranslatorContext ctx, NDList output) {
        NDArray features = output.singletonOrThrow();
        int count = (int) features.getShape().get(0);
        int dim = (int) features.getShape().get(1);
        if (dim != pkg.featureDim()) {
            throw new InferenceException.ModelPackageException("exemplar encoder returned vectors of " + dim
                    + " floats, model.json says feature_dim " + pkg.featureDim());
        }
        float[] all = features.toFloatArray();
        List<float[]> vectors = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            float[] vector = new float[dim];
            System.arraycopy(all, i * dim, vector, 0, dim);
            vectors.add(vector);
        }
        return vectors;
    }
}
