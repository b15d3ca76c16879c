package dev.mqdet.inference;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mqdet.inference.ModelCheck.Step;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./mqdet check-model}: each step on the shipped package, and packages with one thing broken each. */
class ModelCheckTest {

    @Test
    void theShippedPackagePassesShapesCategoriesAndBoxMappingButNotTheSubwordTokenizerRule() {
        List<Step> steps = run(TestModels.shippedPackage().dir());
        assertThat(steps).filteredOn(Step::ok).extracting(Step::name)
                .containsExactly("model.json", "torchscript", "shapes", "categories", "box mapping");
        // mqdet-synth-v1's word-level vocabulary maps unseen words to [UNK]: the rule a v2 model must meet
        assertThat(steps).filteredOn(s -> !s.ok()).singleElement()
                .satisfies(s -> assertThat(s.detail()).contains("tokenizer.json does not keep 'devil's hole pupfish'"));
    }

    @Test
    void aBrokenFieldFailsAtModelJsonAndNamesIt(@TempDir Path dir) throws IOException {
        assertFailsNaming(edited(dir.resolve("a"), json -> ((ObjectNode) json.get("image")).remove("pad_to_multiple")),
                "model.json", "/image/pad_to_multiple is missing");
        assertFailsNaming(edited(dir.resolve("b"), json -> ((ObjectNode) json.get("text")).put("prompt_mode", "sentence")),
                "model.json", "/text/prompt_mode is 'sentence'");
        assertFailsNaming(edited(dir.resolve("c"), json -> ((ObjectNode) json.at("/detector/inputs/1")).put("name", "sizes")),
                "model.json", "/detector/inputs/1/name is 'sizes', expected 'image_sizes'");
    }

    @Test
    void aContractThatTheTorchScriptDoesNotFollowFailsAtTorchscript(@TempDir Path dir) throws IOException {
        int real = TestModels.shippedPackage().featureDim();
        Path pkg = edited(dir, json -> {
            ((ObjectNode) json.get("exemplars")).put("feature_dim", real * 2);
            ((ArrayNode) json.at("/detector/inputs/5/shape")).set(2, real * 2);
            ((ArrayNode) json.at("/exemplar_encoder/outputs/0/shape")).set(1, real * 2);
        });
        assertFailsNaming(pkg, "torchscript", "feature_dim " + real * 2);
    }

    @Test
    void aBoxEmbeddingOfAnotherWidthFailsAtShapes(@TempDir Path dir) throws IOException {
        Path pkg = edited(dir, json -> ((ObjectNode) json.get("detector")).put("box_embedding_dim", 64));
        assertFailsNaming(pkg, "shapes", "box_embeddings at 320x320 has shape [1, 32, 576], expected [1, 32, 64]");
    }

    @Test
    void undeclaredBoxEmbeddingOutputsFailAtShapes(@TempDir Path dir) throws IOException {
        Path pkg = edited(dir, json -> ((ObjectNode) json.get("detector")).remove("box_embedding_dim"));
        assertFailsNaming(pkg, "shapes", "returned 4 outputs at 320x320; model.json states 2");
    }

    private static void assertFailsNaming(Path pkg, String step, String detail) {
        List<Step> steps = run(pkg);
        assertThat(steps).filteredOn(s -> !s.ok()).first().satisfies(s -> {
            assertThat(s.name()).isEqualTo(step);
            assertThat(s.detail()).contains(detail);
        });
    }

    private static List<Step> run(Path pkg) {
        List<Step> steps = new ArrayList<>();
        boolean ok = new ModelCheck(steps::add).run(pkg);
        assertThat(ok).isEqualTo(steps.stream().allMatch(Step::ok));
        return steps;
    }

    private static Path edited(Path dir, Consumer<ObjectNode> edit) throws IOException {
        Path source = TestModels.shippedPackage().dir();
        Path copy = Files.createDirectories(dir);
        for (String file : new String[] {"model.json", "detector.pt", "exemplar_encoder.pt", "tokenizer.json"}) {
            Files.copy(source.resolve(file), copy.resolve(file));
        }
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode json = (ObjectNode) mapper.readTree(copy.resolve("model.json").toFile());
        edit.accept(json);
        mapper.writeValue(copy.resolve("model.json").toFile(), json);
        return copy;
    }
}
