package dev.mqdet.inference;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import dev.mqdet.inference.InferenceException.InvalidQueryException;
import dev.mqdet.inference.InferenceException.ModelPackageException;
import dev.mqdet.inference.ModelPackage.PromptMode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Category names as the detector's text inputs, with the package's {@code tokenizer.json} run by DJL's HuggingFace
 * tokenizers. Two modes, as {@code model.json} says:
 * <ul>
 *   <li>{@code per-category}: one row per category, its name alone; categories never meet;</li>
 *   <li>{@code prompt} (GLIP): the names of a chunk joined into one prompt ("cat. dog. bird."), one row; the
 *       positive map says which tokens are whose, found from the tokens' character spans.</li>
 * </ul>
 * A query set is cut into chunks of at most {@code max_categories_per_forward} categories (per prompt in prompt
 * mode, as GLIP does for LVIS), and in prompt mode also of at most {@code max_tokens} tokens: a chunk is one forward.
 */
final class PromptEncoder implements AutoCloseable {

    /**
     * Text inputs of one forward: {@code ids} and {@code mask} are {@code rows x length}; {@code positiveMap} is
     * {@code categories x rows x length}, 1 where a token belongs to a category's name.
     */
    record TextInput(int categories, int rows, int length, long[] ids, long[] mask, float[] positiveMap) {}

    /** Categories {@code from} (inclusive) to {@code to} of the query set, and their text inputs. */
    record Chunk(int from, int to, TextInput text) {}

    /** What the cache of encoded query sets may hold, in bytes of token arrays and positive maps. */
    static final long CACHE_BYTES = 64L << 20;

    private final HuggingFaceTokenizer tokenizer;
    private final ModelPackage pkg;
    private final ChunkCache cache = new ChunkCache(CACHE_BYTES);

    PromptEncoder(ModelPackage pkg) {
        this.pkg = pkg;
        try {
            this.tokenizer = HuggingFaceTokenizer.newInstance(pkg.dir().resolve("tokenizer.json"),
                    Map.of("addSpecialTokens", Boolean.toString(pkg.addSpecialTokens()), "padding", "false", "truncation", "false"));
        } catch (IOException | RuntimeException e) {
            throw new ModelPackageException("model package " + pkg.dir() + ": tokenizer.json does not load: " + e.getMessage(), e);
        }
    }

    /**
     * The chunks of a query set, from the cache when the same texts were encoded before: a query set is the same
     * from one batch to the next, and tokenising 1,200 names per batch would cost more than the forward.
     */
    List<Chunk> chunks(List<QueryCategory> categories) {
        if (categories.isEmpty()) {
            throw new InvalidQueryException("the query set has no categories");
        }
        List<String> texts = new ArrayList<>(categories.size());
        for (QueryCategory category : categories) {
            texts.add(text(category));
        }
        List<Chunk> cached = cache.get(texts);
        if (cached != null) {
            return cached;
        }
        List<Chunk> chunks = pkg.promptMode() == PromptMode.PROMPT ? prompts(categories) : perCategory(categories);
        cache.put(texts, chunks);
        return chunks;
    }

    /** The text that stands for a category: its name, or the model's vision-only text for an exemplar-only one. */
    String text(QueryCategory category) {
        if (category.hasLabel()) {
            return category.label().strip();
        }
        if (category.exemplars().isEmpty()) {
            throw new InvalidQueryException("category '" + category.categoryId() + "' has neither text nor exemplars");
        }
        return pkg.visionOnlyName();
    }

    /** The tokenizer's own encoding of a text, with the package's special-token setting. */
    Encoding encode(String text) {
        return tokenizer.encode(text, pkg.addSpecialTokens(), false);
    }

    String decode(long[] ids) {
        return tokenizer.decode(ids, true);
    }

    private List<Chunk> perCategory(List<QueryCategory> categories) {
        List<long[]> ids = new ArrayList<>(categories.size());
        List<long[]> special = new ArrayList<>(categories.size());
        for (QueryCategory category : categories) {
            Encoding encoding = encode(text(category));
            long[] tokens = encoding.getIds();
            long[] specials = encoding.getSpecialTokenMask();
            int n = Math.min(tokens.length, pkg.maxTokens());
            if (n == 0 || countNonSpecial(specials, n) == 0) {
                throw new InvalidQueryException("category '" + category.categoryId() + "': its text has no tokens for model " + pkg.modelId());
            }
            ids.add(Arrays.copyOf(tokens, n));
            special.add(Arrays.copyOf(specials, n));
        }
        List<Chunk> chunks = new ArrayList<>();
        for (int from = 0; from < categories.size(); from += pkg.maxCategoriesPerForward()) {
            int to = Math.min(from + pkg.maxCategoriesPerForward(), categories.size());
            int k = to - from;
            int length = 0;
            for (int c = from; c < to; c++) {
                length = Math.max(length, ids.get(c).length);
            }
            long[] flatIds = new long[k * length];
            long[] mask = new long[k * length];
            float[] positive = new float[k * k * length];
            Arrays.fill(flatIds, pkg.padId());
            for (int c = 0; c < k; c++) {
                long[] row = ids.get(from + c);
                long[] specials = special.get(from + c);
                for (int t = 0; t < row.length; t++) {
                    flatIds[c * length + t] = row[t];
                    mask[c * length + t] = 1;
                    positive[(c * k + c) * length + t] = specials[t] == 0 ? 1f : 0f;
                }
            }
            chunks.add(new Chunk(from, to, new TextInput(k, k, length, flatIds, mask, positive)));
        }
        return chunks;
    }

    private List<Chunk> prompts(List<QueryCategory> categories) {
        List<Chunk> chunks = new ArrayList<>();
        int from = 0;
        while (from < categories.size()) {
            int to = Math.min(from + pkg.maxCategoriesPerForward(), categories.size());
            Chunk chunk = prompt(categories, from, to);
            while (chunk == null) { // over max_tokens: fewer categories in this prompt
                if (to - from == 1) {
                    throw new InvalidQueryException("category '" + categories.get(from).categoryId() + "': its text is longer than the "
                            + pkg.maxTokens() + " tokens of a prompt of model " + pkg.modelId());
                }
                to = from + Math.max(1, (to - from) / 2);
                chunk = prompt(categories, from, to);
            }
            chunks.add(chunk);
            from = to;
        }
        return chunks;
    }

    /** One prompt of categories {@code from..to}, or null when it comes to more than max_tokens tokens. */
    private Chunk prompt(List<QueryCategory> categories, int from, int to) {
        StringBuilder prompt = new StringBuilder();
        int[] starts = new int[to - from];
        int[] ends = new int[to - from];
        for (int c = from; c < to; c++) {
            if (c > from) {
                prompt.append(pkg.separator());
            }
            starts[c - from] = prompt.length();
            prompt.append(text(categories.get(c)));
            ends[c - from] = prompt.length();
        }
        prompt.append(pkg.terminator());
        Encoding encoding = encode(prompt.toString());
        long[] ids = encoding.getIds();
        if (ids.length > pkg.maxTokens()) {
            return null;
        }
        long[] specials = encoding.getSpecialTokenMask();
        CharSpan[] spans = encoding.getCharTokenSpans();
        int k = to - from;
        int length = ids.length;
        float[] positive = new float[k * length];
        int[] found = new int[k];
        for (int t = 0; t < length; t++) {
            CharSpan span = spans[t];
            if (specials[t] != 0 || span == null) {
                continue;
            }
            for (int c = 0; c < k; c++) {
                if (span.getStart() < ends[c] && span.getEnd() > starts[c]) {
                    positive[c * length + t] = 1f;
                    found[c]++;
                }
            }
        }
        for (int c = 0; c < k; c++) {
            if (found[c] == 0) {
                throw new InvalidQueryException("category '" + categories.get(from + c).categoryId() + "': its text has no tokens for model " + pkg.modelId());
            }
        }
        long[] mask = new long[length];
        Arrays.fill(mask, 1L);
        return new Chunk(from, to, new TextInput(k, 1, length, ids, mask, positive));
    }

    private static int countNonSpecial(long[] specials, int n) {
        int count = 0;
        for (int t = 0; t < n; t++) {
            if (specials[t] == 0) {
                count++;
            }
        }
        return count;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
