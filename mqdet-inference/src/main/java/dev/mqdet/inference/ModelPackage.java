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
    private static final List<String> DETECTOR_INPUTS = List.of("images", "token_ids", "token_mask", "exemplar_feats", "exemplar_mask");

    private final Path dir;
    private final String modelId;
    private final int imageSize;
    private final float[] mean;
    private final float[] std;
    private final int maxTokens;
    private final long padId;
    private final long maskId;
    private final int visionOnlyMaskTokens;
    private final int featureDim;
    private final int maxExemplars;
    private final int maxCategoriesPerForward;
    private final JsonNode contract;

    private ModelPackage(Path dir, JsonNode json) {
        this.dir = dir;
        this.contract = json;
        this.modelId = text(json, "/name");
        int height = positive(json, "/image/height");
        int width = positive(json, "/image/width");
        if (height != width) {
            throw new ModelPackageException(where("/image") + ": height " + height + " != width " + width + "; only square inputs are supported");
        }
        this.imageSize = height;
        this.mean = floats(json, "/image/mean", 3);
        this.std = floats(json, "/image/std", 3);
        this.maxTokens = positive(json, "/text/max_tokens");
        this.padId = integer(json, "/text/pad_id");
        integer(json, "/text/unk_id");
        this.maskId = integer(json, "/text/mask_id");
        this.visionOnlyMaskTokens = integer(json, "/text/vision_only_mask_tokens");
        this.featureDim = positive(json, "/exemplars/feature_dim");
        this.maxExemplars = positive(json, "/exemplars/max_exemplars_per_category");
        this.maxCategoriesPerForward = positive(json, "/detector/max_categories_per_forward");
        if (visionOnlyMaskTokens < 1 || visionOnlyMaskTokens > maxTokens) {
            throw new ModelPackageException(where("/text/vision_only_mask_tokens") + " must be between 1 and max_tokens " + maxTokens);
        }
        checkDetectorInputs(json);
        checkShape(json, "/detector/inputs/0/shape", 1, 3);
        checkShape(json, "/detector/inputs/0/shape", 2, imageSize);
        checkShape(json, "/detector/inputs/3/shape", 2, featureDim);
        checkShape(json, "/exemplar_encoder/outputs/0/shape", 1, featureDim);
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
    public int imageSize() { return imageSize; }
    public float[] mean() { return mean.clone(); }
    public float[] std() { return std.clone(); }
    public int maxTokens() { return maxTokens; }
    public long padId() { return padId; }
    public long maskId() { return maskId; }
    public int visionOnlyMaskTokens() { return visionOnlyMaskTokens; }
    public int featureDim() { return featureDim; }
    public int maxExemplars() { return maxExemplars; }
    public int maxCategoriesPerForward() { return maxCategoriesPerForward; }
    /** The whole contract, for fields this class does not interpret. */
    public JsonNode contract() { return contract; }

    private void checkDetectorInputs(JsonNode json) {
        JsonNode inputs = json.at("/detector/inputs");
        if (!inputs.isArray() || inputs.size() != DETECTOR_INPUTS.size()) {
            throw new ModelPackageException(where("/detector/inputs") + " must list " + DETECTOR_INPUTS);
        }
        for (int i = 0; i < DETECTOR_INPUTS.size(); i++) {
            String name = inputs.get(i).path("name").asText();
            if (!DETECTOR_INPUTS.get(i).equals(name)) {
                throw new ModelPackageException(where("/detector/inputs/" + i + "/name") + " is '" + name
                        + "', expected '" + DETECTOR_INPUTS.get(i) + "' (inputs in order: " + DETECTOR_INPUTS + ")");
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
