package dev.mqdet.inference;

import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslatorContext;
import dev.mqdet.inference.ImageDecoder.PreparedImage;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Checks that a model package conforms to the contract, as a user runs it on their own export
 * ({@code ./mqdet check-model DIR}): {@code model.json} is valid, both TorchScript files load, forwards at several
 * image sizes and aspect ratios and at 1, 40 and 1,200 categories give the shapes the contract states, the
 * tokenizer keeps unseen words (no {@code [UNK]}), and a known object's box comes back in original pixels whatever
 * the image's size, padding or scale. Each step reports one line; the first failure names the field, file or shape.
 */
public final class ModelCheck {

    /** One step's outcome. */
    public record Step(String name, boolean ok, String detail) {}

    private final Consumer<Step> report;
    private final List<Step> steps = new ArrayList<>();

    public ModelCheck(Consumer<Step> report) {
        this.report = report;
    }

    /** Runs every step that can run; true when all passed. */
    public boolean run(Path dir) {
        ModelPackage pkg;
        try {
            pkg = ModelPackage.load(dir);
            pass("model.json", "format " + ModelPackage.FORMAT_VERSION + ", model '" + pkg.modelId() + "', " + pkg.promptMode().name().toLowerCase(Locale.ROOT)
                    + " mode, " + pkg.imageRule().resize().name().toLowerCase(Locale.ROOT) + ", feature_dim " + pkg.featureDim());
        } catch (RuntimeException e) {
            return fail("model.json", e.getMessage());
        }
        MqDetModel model;
        try {
            model = MqDetModel.load(pkg, MqDetModel.Options.builder().optPoolSize(1).optScoreThreshold(0.05f).build());
            pass("torchscript", "detector.pt and exemplar_encoder.pt load and answer a probe forward");
        } catch (RuntimeException e) {
            return fail("torchscript", e.getMessage());
        }
        try (model; Model raw = Model.newInstance("check", ai.djl.Device.cpu(), "PyTorch")) {
            raw.load(pkg.dir(), "detector");
            guard("shapes", () -> shapes(pkg, model, raw));
            guard("categories", () -> categories(model));
            guard("tokenizer", () -> tokenizer(model));
            guard("box mapping", () -> boxMapping(model));
        } catch (Exception e) {
            fail("torchscript", e.getMessage());
        }
        return steps.stream().allMatch(Step::ok);
    }

    /** Raw outputs for several sizes and aspects, one image each and all of them in one padded batch. */
    private String shapes(ModelPackage pkg, MqDetModel model, Model raw) throws Exception {
        int[][] sizes = {{320, 320}, {900, 300}, {300, 900}, {64, 48}, {1280, 720}};
        List<PreparedImage> all = new ArrayList<>();
        List<float[]> exemplar = model.encodeExemplars(png(solid(200, 100)), List.of(new Box(10, 10, 90, 60)));
        List<QueryCategory> categories = List.of(new QueryCategory("a", "red circle", exemplar), QueryCategory.text("b", "blue square"));
        PromptEncoder.TextInput text = model.prompts().chunks(categories).get(0).text();
        DetectorTranslator packer = DetectorTranslator.builder(pkg).build();
        int expectedOutputs = pkg.boxEmbeddingDim() > 0 ? 4 : 2;
        StringBuilder seen = new StringBuilder();
        try (Predictor<DetectorTranslator.Input, long[][]> predictor = raw.newPredictor(new NoBatchifyTranslator<>() {
            @Override
            public NDList processInput(TranslatorContext ctx, DetectorTranslator.Input input) {
                return packer.processInput(ctx, input);
            }

            @Override
            public long[][] processOutput(TranslatorContext ctx, NDList output) {
                return output.stream().map(NDArray::getShape).map(s -> s.getShape()).toArray(long[][]::new);
            }
        })) {
            for (int[] size : sizes) {
                PreparedImage image = model.decoder().blank(size[0], size[1]);
                all.add(image);
                long[][] out = predictor.predict(new DetectorTranslator.Input(List.of(image), categories, text));
                checkOutputs(out, 1, categories.size(), expectedOutputs, pkg.boxEmbeddingDim(), size);
                seen.append(size[0]).append('x').append(size[1]).append(" -> N=").append(out[0][1]).append("; ");
            }
            long[][] out = predictor.predict(new DetectorTranslator.Input(all, categories, text));
            checkOutputs(out, all.size(), categories.size(), expectedOutputs, pkg.boxEmbeddingDim(), new int[] {0, 0});
        }
        return seen + "a padded batch of all " + sizes.length + ": boxes [B,N,4], logits [B,N,K]" + (expectedOutputs == 4 ? ", box_embeddings [B,M,D], box_embedding_anchors [B,M]" : "");
    }

    private static void checkOutputs(long[][] out, int batch, int k, int outputs, int embeddingDim, int[] size) {
        String at = size[0] > 0 ? " at " + size[0] + "x" + size[1] : " for a padded batch";
        if (out.length != outputs) {
            throw new IllegalStateException("detector.pt returned " + out.length + " outputs" + at + "; model.json states " + outputs);
        }
        long anchors = out[0][1];
        expect("boxes" + at, out[0], new long[] {batch, anchors, 4});
        expect("logits" + at, out[1], new long[] {batch, anchors, k});
        if (outputs == 4) {
            long rows = out[2].length == 3 ? out[2][1] : -1;
            expect("box_embeddings" + at, out[2], new long[] {batch, rows, embeddingDim});
            expect("box_embedding_anchors" + at, out[3], new long[] {batch, rows});
            if (rows > anchors) {
                throw new IllegalStateException("box_embeddings" + at + " has " + rows + " rows per image, more than the " + anchors + " anchors");
            }
        }
    }

    private static void expect(String what, long[] shape, long[] expected) {
        if (!Arrays.equals(shape, expected)) {
            throw new IllegalStateException(what + " has shape " + Arrays.toString(shape) + ", expected " + Arrays.toString(expected));
        }
    }

    private String categories(MqDetModel model) {
        StringBuilder out = new StringBuilder();
        PreparedImage image = model.decoder().blank(640, 480);
        for (int k : new int[] {1, 40, 1_200}) {
            List<QueryCategory> set = new ArrayList<>(k);
            for (int i = 0; i < k; i++) {
                set.add(QueryCategory.text("c" + i, WORDS[i % WORDS.length] + " " + WORDS[(i / WORDS.length + 3) % WORDS.length] + " " + i));
            }
            int chunks = model.prompts().chunks(set).size();
            long started = System.nanoTime();
            model.detectPrepared(List.of(image), set);
            out.append(String.format(Locale.ROOT, "%d in %d forward%s (%.0f ms); ", k, chunks, chunks == 1 ? "" : "s", (System.nanoTime() - started) / 1e6));
        }
        return out.toString();
    }

    private String tokenizer(MqDetModel model) {
        PromptEncoder prompts = model.prompts();
        List<String> unseen = List.of("devil's hole pupfish", "Quokka", "xylophonic zebra-crossing", "café au lait spot");
        for (String name : unseen) {
            long[] ids = prompts.encode(name).getIds();
            String back = prompts.decode(ids);
            if (!squash(back).equals(squash(name))) {
                throw new IllegalStateException("tokenizer.json does not keep '" + name + "': it decodes to '" + back
                        + "' (a word-level vocabulary maps unseen words to [UNK]; use a subword tokenizer)");
            }
        }
        return "unseen names survive encode/decode: " + unseen;
    }

    /** What a BERT-style normaliser leaves comparable: lower case, no accents, no spaces. */
    private static String squash(String text) {
        return java.text.Normalizer.normalize(text.toLowerCase(Locale.ROOT), java.text.Normalizer.Form.NFD)
                .replaceAll("\\p{M}", "").replaceAll("\\s+", "");
    }

    /**
     * A drawn object in a 900 x 300 image, queried by its own box as an exemplar: found at the same original-pixel
     * box in the image as it is, the same image padded on the right, and the image at twice the size.
     */
    private String boxMapping(MqDetModel model) {
        Box object = new Box(600, 100, 680, 180);
        BufferedImage base = scene(900, 300, object, 1);
        List<float[]> exemplar = model.encodeExemplars(png(base), List.of(object));
        List<QueryCategory> query = List.of(new QueryCategory("object", null, exemplar));
        StringBuilder out = new StringBuilder();
        for (int variant = 0; variant < 3; variant++) {
            BufferedImage image = switch (variant) {
                case 0 -> base;
                case 1 -> padRight(base, 300);
                default -> scene(1800, 600, object.scaled(2), 2);
            };
            Box expected = variant == 2 ? object.scaled(2) : object;
            List<DetectedObject> found = model.detect(List.of(png(image)), query).get(0);
            if (found.isEmpty()) {
                throw new IllegalStateException("no box found for the known object in the " + image.getWidth() + "x" + image.getHeight() + " image");
            }
            double iou = found.get(0).box().iou(expected);
            if (iou < 0.5) {
                throw new IllegalStateException("the best box " + found.get(0).box() + " in the " + image.getWidth() + "x" + image.getHeight()
                        + " image has IoU " + String.format(Locale.ROOT, "%.2f", iou) + " with the object at " + expected + " (original pixels)");
            }
            out.append(String.format(Locale.ROOT, "%dx%d IoU %.2f; ", image.getWidth(), image.getHeight(), iou));
        }
        return out.toString();
    }

    private static BufferedImage scene(int width, int height, Box object, int scale) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        Random random = new Random(7);
        g.setColor(new Color(128, 128, 128));
        g.fillRect(0, 0, width, height);
        for (int i = 0; i < 40; i++) { // faint texture, the same at any scale
            g.setColor(new Color(110 + random.nextInt(40), 110 + random.nextInt(40), 110 + random.nextInt(40)));
            g.fillRect(random.nextInt(900) * scale, random.nextInt(300) * scale, 20 * scale, 20 * scale);
        }
        g.setColor(new Color(230, 200, 20));
        g.fillRect((int) object.x1(), (int) object.y1(), (int) object.width(), (int) object.height());
        g.setColor(Color.BLACK);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                g.fillOval((int) (object.x1() + (x * 20 + 6) * scale), (int) (object.y1() + (y * 20 + 6) * scale), 8 * scale, 8 * scale);
            }
        }
        g.dispose();
        return image;
    }

    private static BufferedImage padRight(BufferedImage image, int extra) {
        BufferedImage padded = new BufferedImage(image.getWidth() + extra, image.getHeight(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = padded.createGraphics();
        g.setColor(new Color(128, 128, 128));
        g.fillRect(0, 0, padded.getWidth(), padded.getHeight());
        g.drawImage(image, 0, 0, null);
        g.dispose();
        return padded;
    }

    private static BufferedImage solid(int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(Color.RED);
        g.fillOval(10, 10, 80, 50);
        g.dispose();
        return image;
    }

    private static byte[] png(BufferedImage image) {
        try {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            javax.imageio.ImageIO.write(image, "png", out);
            return out.toByteArray();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private interface Check {
        String run() throws Exception;
    }

    private void guard(String name, Check check) {
        try {
            pass(name, check.run());
        } catch (Exception | AssertionError e) {
            fail(name, e.getMessage());
        }
    }

    private void pass(String name, String detail) {
        Step step = new Step(name, true, detail);
        steps.add(step);
        report.accept(step);
    }

    private boolean fail(String name, String detail) {
        Step step = new Step(name, false, detail);
        steps.add(step);
        report.accept(step);
        return false;
    }

    private static final String[] WORDS = {"red", "striped", "round", "tall", "wooden", "glass", "spotted", "metal",
            "small", "green", "folded", "woven"};
}
