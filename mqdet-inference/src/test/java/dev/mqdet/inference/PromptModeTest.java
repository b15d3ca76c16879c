package dev.mqdet.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.huggingface.tokenizers.Encoding;
import dev.mqdet.inference.InferenceException.InvalidQueryException;
import dev.mqdet.inference.ModelCheck.Step;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * GLIP's prompt mode on a tiny test package (src/test/python/make_prompt_test_package.py: WordPiece with [CLS] and
 * [SEP], shorter side 128 to 224, BGR, 0-255, 8 categories and 64 tokens per prompt, a box-embedding output).
 */
class PromptModeTest {

    private static final Path PACKAGE = Path.of("src/test/resources/prompt-package");

    @Test
    void eachCategoryOwnsExactlyTheTokensOfItsNameInThePrompt() {
        ModelPackage pkg = ModelPackage.load(PACKAGE);
        try (PromptEncoder prompts = new PromptEncoder(pkg)) {
            List<QueryCategory> set = List.of(QueryCategory.text("a", "Red fox"), QueryCategory.text("b", "café au lait"),
                    QueryCategory.text("c", "pupfish"));
            List<PromptEncoder.Chunk> chunks = prompts.chunks(set);
            assertThat(chunks).hasSize(1);
            PromptEncoder.TextInput text = chunks.get(0).text();
            assertThat(text.rows()).isEqualTo(1);
            Encoding whole = prompts.encode("Red fox. café au lait. pupfish.");
            assertThat(text.ids()).containsExactly(whole.getIds());
            assertThat(text.ids()).as("no [UNK]: unseen words become pieces").doesNotContain(1L);
            for (int c = 0; c < set.size(); c++) {
                List<Long> owned = new ArrayList<>();
                for (int t = 0; t < text.length(); t++) {
                    if (text.positiveMap()[c * text.length() + t] == 1f) {
                        owned.add(text.ids()[t]);
                    }
                }
                String decoded = prompts.decode(owned.stream().mapToLong(Long::longValue).toArray());
                assertThat(squash(decoded)).as("tokens of %s", set.get(c).label()).isEqualTo(squash(set.get(c).label()));
            }
            assertThat(text.positiveMap()[0]).as("[CLS] belongs to no category").isZero();
        }
    }

    @Test
    void largeQuerySetsAreCutIntoPromptsOfAtMostTheCategoriesAndTokensAModelTakes() {
        ModelPackage pkg = ModelPackage.load(PACKAGE);
        try (PromptEncoder prompts = new PromptEncoder(pkg)) {
            List<QueryCategory> set = new ArrayList<>();
            for (int i = 0; i < 1_200; i++) {
                // every tenth name is long: 13 one-letter pieces, so token counts, not only category counts, cut prompts
                set.add(QueryCategory.text("c" + i, i % 10 == 0 ? "xqzvkwjyhgfpb" + i : "dotted star " + i));
            }
            List<PromptEncoder.Chunk> chunks = prompts.chunks(set);
            int next = 0;
            boolean cutByTokens = false;
            for (PromptEncoder.Chunk chunk : chunks) {
                assertThat(chunk.from()).isEqualTo(next);
                assertThat(chunk.to() - chunk.from()).isBetween(1, pkg.maxCategoriesPerForward());
                assertThat(chunk.text().length()).isLessThanOrEqualTo(pkg.maxTokens());
                cutByTokens |= chunk.to() - chunk.from() < pkg.maxCategoriesPerForward() && chunk.to() < set.size();
                next = chunk.to();
            }
            assertThat(next).isEqualTo(1_200);
            assertThat(cutByTokens).as("some prompts were cut by max_tokens").isTrue();
            QueryCategory tooLong = QueryCategory.text("long", "x".repeat(10) + " " + "abcdefghijklmnopqrstuvwxyz".repeat(3).chars()
                    .mapToObj(ch -> Character.toString((char) ch)).reduce((a, b) -> a + " " + b).orElseThrow());
            assertThatThrownBy(() -> prompts.chunks(List.of(tooLong))).isInstanceOf(InvalidQueryException.class)
                    .hasMessageContaining("longer than the 64 tokens of a prompt");
        }
    }

    @Test
    void aQuerySetIsTokenisedOnceAndEncodedAgainOnlyWhenItsTextsChange() {
        ModelPackage pkg = ModelPackage.load(PACKAGE);
        try (PromptEncoder prompts = new PromptEncoder(pkg)) {
            List<QueryCategory> set = new ArrayList<>();
            for (int i = 0; i < 1_200; i++) {
                set.add(QueryCategory.text("c" + i, "dotted star " + i));
            }
            List<PromptEncoder.Chunk> first = prompts.chunks(set);
            assertThat(prompts.chunks(new ArrayList<>(set))).as("the next batch of the same query set").isSameAs(first);

            set.set(7, QueryCategory.text("c7", "ringed star 7"));
            List<PromptEncoder.Chunk> changed = prompts.chunks(set);
            assertThat(changed).isNotSameAs(first);
            assertThat(changed.get(0).text().ids()).isNotEqualTo(first.get(0).text().ids());
            assertThat(changed.get(1).text().ids()).isEqualTo(first.get(1).text().ids());
        }
    }

    @Test
    void aPromptModelDetectsTwelveHundredCategoriesOnANonSquareImageWithBoxesInItsPixels() {
        try (MqDetModel model = MqDetModel.load(ModelPackage.load(PACKAGE), MqDetModel.Options.builder().optScoreThreshold(0f).build())) {
            ImageDecoder.PreparedImage image = model.decoder().blank(900, 300);
            // shorter side 128 would make the longer 384 > 224, so the shorter is round(224 * 300 / 900) = 75 and the longer
            // floor(75 * 900 / 300) = 225: maskrcnn_benchmark's rule, one pixel over max_size by its rounding
            assertThat(image.inputHeight()).isEqualTo(75);
            assertThat(image.inputWidth()).isEqualTo(225);
            List<QueryCategory> set = new ArrayList<>();
            for (int i = 0; i < 1_200; i++) {
                set.add(QueryCategory.text("c" + i, "blue square " + i));
            }
            List<DetectedObject> found = model.detectPrepared(List.of(image), set).get(0);
            assertThat(found).isNotEmpty();
            for (DetectedObject d : found) {
                assertThat(d.box().x2()).isLessThanOrEqualTo(900f);
                assertThat(d.box().y2()).isLessThanOrEqualTo(300f);
            }
            List<float[]> five = model.encodeExemplars(ImageDecoderTestImages.png(120, 80), List.of(new Box(1, 1, 50, 50), new Box(2, 2, 40, 40),
                    new Box(3, 3, 30, 30), new Box(4, 4, 20, 20), new Box(5, 5, 10, 10)));
            assertThatThrownBy(() -> model.detectPrepared(List.of(image), List.of(new QueryCategory("many", "fox", five))))
                    .isInstanceOf(InvalidQueryException.class).hasMessageContaining("has 5 exemplars; model prompt-test takes at most 4");
        }
    }

    @Test
    void checkModelPassesItsContractSteps() {
        List<Step> steps = new ArrayList<>();
        new ModelCheck(steps::add).run(PACKAGE);
        // A random model finds no drawn object, so only the box-mapping step may fail.
        assertThat(steps).filteredOn(Step::ok).extracting(Step::name)
                .containsExactly("model.json", "torchscript", "shapes", "categories", "tokenizer");
        assertThat(steps.stream().filter(s -> s.name().equals("shapes")).findFirst().orElseThrow().detail()).contains("box_embeddings");
    }

    private static String squash(String text) {
        return java.text.Normalizer.normalize(text.toLowerCase(Locale.ROOT), java.text.Normalizer.Form.NFD).replaceAll("\\p{M}", "").replaceAll("\\s+", "");
    }
}
