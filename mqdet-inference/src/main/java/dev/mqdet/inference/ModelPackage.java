package dev.mqdet.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mqdet.inference.InferenceException.ModelPackageException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * A model package: a folder with {@code model.json} (the contract: inputs, outputs, shapes, pre-processing),
 * the TorchScript detector and exemplar encoder, and the tokenizer. Everything the Java side needs to know
 * about a model comes from here, so a full-size MQ-GLIP export that follows the same contract drops in.
 *
 * <p>{@link #load} validates the contract and names the first missing file or field, or mismatched shape.
 */
public final class ModelPackage {

    /** Name of the package shipped inside this jar (and in the repository's {@code models/} folder). */
    public static final String SHIPPED_NAME = "mqdet-synth-v1";
    /** The environment variable naming the folder {@link #shipped()} unpacks into (default {@code ~/.cache/mqdet/models}). */
    public static final String CACHE_VARIABLE = "MQDET_MODEL_CACHE";
    private static final List<String> FILES = List.of("model.json", "detector.pt", "exemplar_encoder.pt", "tokenizer.json");
    private static final List<String> DETECTOR_INPUTS =
            List.of("images", "image_sizes", "token_ids", "token_mask", "positive_map", "exemplar_feats", "exemplar_mask");
    private static final List<String> ENCODER_INPUTS = List.of("image", "image_sizes", "boxes");
    /** The one format this version reads; {@code models/README.md} describes it. */
    public static final int FORMAT_VERSION = 2;

    /** How category names become token rows: one row each, or GLIP's one prompt of many categories. */
    public enum PromptMode { PER_CATEGORY, PROMPT }

    private final Path dir;
    private final String modelId;
    private final ImageRule imageRule;
    private final PromptMode promptMode;
    private final boolean addSpecialTokens;
    private final int maxTokens;
    private final String separator;
    private final String terminator;
    private final String visionOnlyName;
    private final long padId;
    private final int featureDim;
    private final int maxExemplars;
    private final int maxCategoriesPerForward;
    private final int boxEmbeddingDim;
    private final JsonNode contract;

    private ModelPackage(Path dir, JsonNode json) {
        this.dir = dir;
        this.contract = json;
        JsonNode version = json.at("/format_version");
        if (!version.isInt() || version.asInt() != FORMAT_VERSION) {
            throw new ModelPackageException("model package " + dir + " is format " + (version.isMissingNode() ? "1" : version)
                    + "; this version reads format " + FORMAT_VERSION + " only: re-export it in format " + FORMAT_VERSION
                    + " (a format-1 package: /usr/bin/python3 training/rewrap_v1_as_v2.py OLD NEW; see models/README.md)");
        }
        this.modelId = text(json, "/name");
        this.imageRule = imageRule(json);
        String mode = text(json, "/text/prompt_mode");
        this.promptMode = switch (mode) {
            case "per-category" -> PromptMode.PER_CATEGORY;
            case "prompt" -> PromptMode.PROMPT;
            default -> throw new ModelPackageException(where("/text/prompt_mode") + " is '" + mode + "'; expected per-category or prompt");
        };
        this.addSpecialTokens = bool(json, "/text/add_special_tokens");
        this.maxTokens = positive(json, "/text/max_tokens");
        this.padId = integer(json, "/text/pad_id");
        this.visionOnlyName = text(json, "/text/vision_only_name");
        if (promptMode == PromptMode.PROMPT) {
            this.separator = string(json, "/text/separator");
            this.terminator = string(json, "/text/terminator");
            this.maxCategoriesPerForward = positive(json, "/text/max_categories_per_prompt");
        } else {
            this.separator = "";
            this.terminator = "";
            this.maxCategoriesPerForward = positive(json, "/text/max_categories_per_forward");
        }
        this.featureDim = positive(json, "/exemplars/feature_dim");
        this.maxExemplars = positive(json, "/exemplars/max_exemplars_per_category");
        JsonNode embedding = json.at("/detector/box_embedding_dim");
        this.boxEmbeddingDim = embedding.isMissingNode() || embedding.isNull() ? 0 : positive(json, "/detector/box_embedding_dim");
        checkNames(json, "/detector/inputs", DETECTOR_INPUTS);
        checkNames(json, "/exemplar_encoder/inputs", ENCODER_INPUTS);
        checkShape(json, "/detector/inputs/0/shape", 1, 3);
        checkShape(json, "/detector/inputs/5/shape", 2, featureDim);
        checkShape(json, "/exemplar_encoder/outputs/0/shape", 1, featureDim);
    }

    private ImageRule imageRule(JsonNode json) {
        String resize = text(json, "/image/resize");
        ImageRule.Resize rule;
        int size = 0;
        boolean upscale = false;
        int minSize = 0;
        int maxSize = 0;
        switch (resize) {
            case "letterbox" -> {
                rule = ImageRule.Resize.LETTERBOX;
                size = positive(json, "/image/size");
                upscale = bool(json, "/image/upscale");
            }
            case "shorter_side" -> {
                rule = ImageRule.Resize.SHORTER_SIDE;
                minSize = positive(json, "/image/min_size");
                maxSize = positive(json, "/image/max_size");
                if (maxSize < minSize) {
                    throw new ModelPackageException(where("/image/max_size") + " " + maxSize + " is below min_size " + minSize);
                }
            }
            default -> throw new ModelPackageException(where("/image/resize") + " is '" + resize + "'; expected letterbox or shorter_side");
        }
        String order = text(json, "/image/channel_order");
        if (!order.equals("RGB") && !order.equals("BGR")) {
            throw new ModelPackageException(where("/image/channel_order") + " is '" + order + "'; expected RGB or BGR");
        }
        int valueScale = positive(json, "/image/value_scale");
        if (valueScale != 1 && valueScale != 255) {
            throw new ModelPackageException(where("/image/value_scale") + " is " + valueScale + "; expected 1 or 255");
        }
        float[] std = floats(json, "/image/std", 3);
        for (float s : std) {
            if (!(s > 0)) {
                throw new ModelPackageException(where("/image/std") + " has " + s + "; every std must be above 0");
            }
        }
        JsonNode pad = json.at("/image/pad_value");
        if (!pad.isNumber()) {
            throw new ModelPackageException(where("/image/pad_value") + " is missing (a number: padded pixels after normalisation)");
        }
        return new ImageRule(rule, size, upscale, minSize, maxSize, positive(json, "/image/pad_to_multiple"),
                order.equals("BGR"), valueScale, floats(json, "/image/mean", 3), std, (float) pad.asDouble());
    }

    /** Loads and validates the package in {@code dir}. */
    public static ModelPackage load(Path dir) {
        for (String file : FILES) {
            if (!Files.isRegularFile(dir.resolve(file))) {
                throw new ModelPackageException("model package " + dir + " lacks " + file);
            }
        }
        try {
            return new ModelPackage(dir, new ObjectMapper().readTree(dir.resolve("model.json").toFile()));
        } catch (IOException e) {
            throw new ModelPackageException("model package " + dir + ": model.json is not valid JSON: " + e.getMessage(), e);
        }
    }

    /**
     * The package shipped inside this jar, unpacked once into {@code $MQDET_MODEL_CACHE} (default
     * {@code ~/.cache/mqdet/models}) under a folder named by its content hash, so a new build never reuses stale files.
     */
    public static ModelPackage shipped() {
        String base = "/dev/mqdet/inference/shipped/" + SHIPPED_NAME + "/";
        String cacheRoot = null;
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (String file : FILES) {
                try (InputStream in = open(base + file)) {
                    digest.update(in.readAllBytes());
                }
            }
            String hash = HexFormat.of().formatHex(digest.digest()).substring(0, 16);
            cacheRoot = System.getenv().getOrDefault(CACHE_VARIABLE,
                    Path.of(System.getProperty("user.home"), ".cache", "mqdet", "models").toString());
            Path target = Path.of(cacheRoot, SHIPPED_NAME + "-" + hash);
            if (!Files.isRegularFile(target.resolve("model.json"))) {
                Path staging = Files.createDirectories(Path.of(cacheRoot)).resolve(target.getFileName() + ".tmp" + ProcessHandle.current().pid());
                Files.createDirectories(staging);
                for (String file : FILES) {
                    try (InputStream in = open(base + file)) {
                        Files.copy(in, staging.resolve(file), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
                try {
                    Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException raced) { // another process unpacked it first
                    if (!Files.isRegularFile(target.resolve("model.json"))) {
                        throw raced;
                    }
                }
            }
            return load(target);
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new ModelPackageException("could not unpack the shipped model package into " + cacheRoot + " (" + e
                    + "); set " + CACHE_VARIABLE + " to a writable folder, or mqdet.model.dir to an unpacked package", e);
        }
    }

    private static InputStream open(String resource) {
        InputStream in = ModelPackage.class.getResourceAsStream(resource);
        if (in == null) {
            throw new ModelPackageException("the shipped model package is missing " + resource + " on the class path");
        }
        return in;
    }

    public Path dir() { return dir; }
    /** The model id that keys exemplar embeddings: features of one model are meaningless to another. */
    public String modelId() { return modelId; }
    public ImageRule imageRule() { return imageRule; }
    public PromptMode promptMode() { return promptMode; }
    public boolean addSpecialTokens() { return addSpecialTokens; }
    /** Tokens of one row: the whole prompt (prompt mode, special tokens included) or one category's name. */
    public int maxTokens() { return maxTokens; }
    /** Prompt mode: what joins two category names, and what ends the prompt. */
    public String separator() { return separator; }
    public String terminator() { return terminator; }
    /** The text that stands for a category without a name (exemplars only). */
    public String visionOnlyName() { return visionOnlyName; }
    public long padId() { return padId; }
    public int featureDim() { return featureDim; }
    /** Exemplars a category may have; more is refused, never dropped. */
    public int maxExemplars() { return maxExemplars; }
    /** Categories in one forward: per prompt in prompt mode, rows in per-category mode. */
    public int maxCategoriesPerForward() { return maxCategoriesPerForward; }
    /** The dimension of the detector's optional third output, one embedding per box; 0 when it has none. */
    public int boxEmbeddingDim() { return boxEmbeddingDim; }
    /** The whole contract, for fields this class does not interpret. */
    public JsonNode contract() { return contract; }

    private void checkNames(JsonNode json, String pointer, List<String> expected) {
        JsonNode inputs = json.at(pointer);
        if (!inputs.isArray() || inputs.size() != expected.size()) {
            throw new ModelPackageException(where(pointer) + " must list " + expected);
        }
        for (int i = 0; i < expected.size(); i++) {
            String name = inputs.get(i).path("name").asText();
            if (!expected.get(i).equals(name)) {
                throw new ModelPackageException(where(pointer + "/" + i + "/name") + " is '" + name
                        + "', expected '" + expected.get(i) + "' (inputs in order: " + expected + ")");
            }
        }
    }

    private void checkShape(JsonNode json, String pointer, int index, int expected) {
        JsonNode dim = json.at(pointer + "/" + index);
        if (!dim.isInt() || dim.asInt() != expected) {
            throw new ModelPackageException(where(pointer) + " dimension " + index + " is " + dim + ", expected " + expected);
        }
    }

    private String where(String pointer) {
        return "model package " + dir + ": model.json " + pointer;
    }

    private String text(JsonNode json, String pointer) {
        JsonNode node = json.at(pointer);
        if (!node.isTextual() || node.asText().isBlank()) {
            throw new ModelPackageException(where(pointer) + " is missing (a non-empty string)");
        }
        return node.asText();
    }

    /** A string that may be empty (a separator), but must be there. */
    private String string(JsonNode json, String pointer) {
        JsonNode node = json.at(pointer);
        if (!node.isTextual()) {
            throw new ModelPackageException(where(pointer) + " is missing (a string)");
        }
        return node.asText();
    }

    private boolean bool(JsonNode json, String pointer) {
        JsonNode node = json.at(pointer);
        if (!node.isBoolean()) {
            throw new ModelPackageException(where(pointer) + " is missing (true or false)");
        }
        return node.asBoolean();
    }

    private int integer(JsonNode json, String pointer) {
        JsonNode node = json.at(pointer);
        if (!node.isInt() || node.asInt() < 0) {
            throw new ModelPackageException(where(pointer) + " is missing (a non-negative integer)");
        }
        return node.asInt();
    }

    /** A count or size: 0 would make a chunked loop (max_categories_per_forward) never advance, or a shape empty. */
    private int positive(JsonNode json, String pointer) {
        int value = integer(json, pointer);
        if (value < 1) {
            throw new ModelPackageException(where(pointer) + " is " + value + "; it must be at least 1");
        }
        return value;
    }

    private float[] floats(JsonNode json, String pointer, int length) {
        JsonNode node = json.at(pointer);
        if (!node.isArray() || node.size() != length) {
            throw new ModelPackageException(where(pointer) + " is missing (an array of " + length + " numbers)");
        }
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = (float) node.get(i).asDouble();
        }
        return values;
    }
}
