package dev.mqdet.inference;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.mqdet.inference.InferenceException.InvalidQueryException;
import dev.mqdet.inference.InferenceException.ModelPackageException;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;

/**
 * A category's text as the detector's {@code token_ids}/{@code token_mask} row, with the package's
 * {@code tokenizer.json} run by DJL's HuggingFace tokenizers (no special tokens added, per the contract).
 * A category without usable text becomes the contract's vision-only row: {@code vision_only_mask_tokens} [MASK]s.
 */
final class QueryTokenizer implements AutoCloseable {

    /** One category's row: ids and mask, each {@code max_tokens} long. */
    record TokenRow(long[] ids, long[] mask) {}

    private final HuggingFaceTokenizer tokenizer;
    private final ModelPackage pkg;

    QueryTokenizer(ModelPackage pkg) {
        this.pkg = pkg;
        try {
            this.tokenizer = HuggingFaceTokenizer.newInstance(pkg.dir().resolve("tokenizer.json"),
                    Map.of("addSpecialTokens", "false", "padding", "false", "truncation", "false"));
        } catch (IOException | RuntimeException e) {
            throw new ModelPackageException("model package " + pkg.dir() + ": tokenizer.json does not load: " + e.getMessage(), e);
        }
    }

    TokenRow row(QueryCategory category) {
        int length = pkg.maxTokens();
        long[] ids = new long[length];
        long[] mask = new long[length];
        Arrays.fill(ids, pkg.padId());
        long[] tokens = category.hasLabel() ? tokenizer.encode(category.label()).getIds() : new long[0];
        if (tokens.length == 0) {
            if (category.exemplars().isEmpty()) {
                throw new InvalidQueryException("category '" + category.categoryId()
                        + "' has neither text (label '" + category.label() + "' has no tokens) nor exemplars");
            }
            tokens = new long[pkg.visionOnlyMaskTokens()];
            Arrays.fill(tokens, pkg.maskId());
        }
        int n = Math.min(tokens.length, length);
        System.arraycopy(tokens, 0, ids, 0, n);
        Arrays.fill(mask, 0, n, 1L);
        return new TokenRow(ids, mask);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
