package dev.mqdet.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mqdet.inference.InferenceException.ModelPackageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelPackageTest {

    @Test
    void shippedPackageLoadsFromTheClassPathWithItsContract() {
        ModelPackage pkg = ModelPackage.shipped();
        ModelPackage repo = TestModels.shippedPackage();
        assertThat(pkg.modelId()).isEqualTo(repo.modelId());
        assertThat(pkg.imageRule().size()).isEqualTo(repo.imageRule().size()).isPositive();
        assertThat(pkg.featureDim()).isEqualTo(repo.featureDim()).isPositive();
        assertThat(pkg.maxCategoriesPerForward()).isPositive();
    }

    @Test
    void missingFileIsNamed(@TempDir Path dir) throws IOException {
        Path copy = copyOf(dir);
        Files.delete(copy.resolve("tokenizer.json"));
        assertThatThrownBy(() -> ModelPackage.load(copy)).isInstanceOf(ModelPackageException.class).hasMessageContaining("lacks tokenizer.json");
    }

    @Test
    void missingFieldIsNamed(@TempDir Path dir) throws IOException {
        Path copy = copyOf(dir);
        editContract(copy, json -> ((ObjectNode) json.get("text")).remove("max_tokens"));
        assertThatThrownBy(() -> ModelPackage.load(copy)).isInstanceOf(ModelPackageException.class).hasMessageContaining("/text/max_tokens is missing");
    }

    @Test
    void aZeroChunkSizeIsRefusedAtLoad(@TempDir Path dir) throws IOException {
        // detectBatch steps through categories max_categories_per_forward at a time: 0 would never advance.
        Path copy = copyOf(dir);
        editContract(copy, json -> ((ObjectNode) json.get("text")).put("max_categories_per_forward", 0));
        assertThatThrownBy(() -> ModelPackage.load(copy)).isInstanceOf(ModelPackageException.class)
                .hasMessageContaining("/text/max_categories_per_forward is 0; it must be at least 1");
        Path other = copyOf(dir.resolve("b"));
        editContract(other, json -> ((ObjectNode) json.get("exemplars")).put("max_exemplars_per_category", 0));
        assertThatThrownBy(() -> ModelPackage.load(other)).isInstanceOf(ModelPackageException.class)
                .hasMessageContaining("/exemplars/max_exemplars_per_category is 0");
    }

    @Test
    void mismatchedShapeInTheContractIsNamed(@TempDir Path dir) throws IOException {
        Path copy = copyOf(dir);
        editContract(copy, json -> ((ObjectNode) json.get("exemplars")).put("feature_dim", 7));
        assertThatThrownBy(() -> ModelPackage.load(copy)).isInstanceOf(ModelPackageException.class)
                .hasMessageContaining("/detector/inputs/5/shape dimension 2");
    }

    @Test
    void contractThatDisagreesWithTheTorchScriptFailsAtLoad(@TempDir Path dir) throws IOException {
        Path copy = copyOf(dir);
        int real = TestModels.shippedPackage().featureDim();
        editContract(copy, json -> {
            ((ObjectNode) json.get("exemplars")).put("feature_dim", real + 1);
            ((com.fasterxml.jackson.databind.node.ArrayNode) json.at("/detector/inputs/5/shape")).set(2, real + 1);
            ((com.fasterxml.jackson.databind.node.ArrayNode) json.at("/exemplar_encoder/outputs/0/shape")).set(1, real + 1);
        });
        ModelPackage pkg = ModelPackage.load(copy);
        assertThatThrownBy(() -> MqDetModel.load(pkg, MqDetModel.Options.builder().optPoolSize(1).build()))
                .isInstanceOf(ModelPackageException.class)
                .hasMessageContaining("vectors of " + real + " floats, model.json says feature_dim " + (real + 1));
    }

    @Test
    void aFormatOnePackageIsRefusedWithHowToReExport(@TempDir Path dir) throws IOException {
        Path copy = copyOf(dir);
        editContract(copy, json -> json.put("format_version", 1));
        assertThatThrownBy(() -> ModelPackage.load(copy)).isInstanceOf(ModelPackageException.class)
                .hasMessageContaining("is format 1; this version reads format 2").hasMessageContaining("rewrap_v1_as_v2.py");
    }

    @Test
    void anUnknownResizeRuleOrChannelOrderIsNamed(@TempDir Path dir) throws IOException {
        Path copy = copyOf(dir);
        editContract(copy, json -> ((ObjectNode) json.get("image")).put("resize", "stretch"));
        assertThatThrownBy(() -> ModelPackage.load(copy)).isInstanceOf(ModelPackageException.class)
                .hasMessageContaining("/image/resize is 'stretch'; expected letterbox or shorter_side");
        Path other = copyOf(dir.resolve("b"));
        editContract(other, json -> ((ObjectNode) json.get("image")).put("channel_order", "GRB"));
        assertThatThrownBy(() -> ModelPackage.load(other)).isInstanceOf(ModelPackageException.class)
                .hasMessageContaining("/image/channel_order is 'GRB'");
    }

    private static Path copyOf(Path dir) throws IOException {
        Path source = TestModels.shippedPackage().dir();
        Path copy = Files.createDirectories(dir.resolve("pkg"));
        for (String file : new String[] {"model.json", "detector.pt", "exemplar_encoder.pt", "tokenizer.json"}) {
            Files.copy(source.resolve(file), copy.resolve(file));
        }
        return copy;
    }

    private static void editContract(Path pkg, java.util.function.Consumer<ObjectNode> edit) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode json = (ObjectNode) mapper.readTree(pkg.resolve("model.json").toFile());
        edit.accept(json);
        mapper.writeValue(pkg.resolve("model.json").toFile(), json);
    }
}
