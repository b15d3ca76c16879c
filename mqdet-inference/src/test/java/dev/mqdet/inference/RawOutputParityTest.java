package dev.mqdet.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslatorContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mqdet.inference.ImageDecoder.PreparedImage;
import dev.mqdet.inference.eval.EvalSet;
import dev.mqdet.inference.eval.Evaluation;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Raw outputs (box regression and alignment logits, exemplar features) through DJL/libtorch 2.7 agree with
 * PyTorch 1.13 on ten fixed inputs within 1e-4, and the Java evaluator's AP with the Python evaluator's within
 * 0.5 points. The expected values come from src/test/python/make_parity_fixture.py, run on the shipped model.
 */
class RawOutputParityTest {

    private static JsonNode fixture;
    private static ModelPackage pkg;
    private static EvalSet set;

    @BeforeAll
    static void load() throws Exception {
        try (InputStream in = RawOutputParityTest.class.getResourceAsStream("/parity/fixture.json")) {
            fixture = new ObjectMapper().readTree(in);
        }
        pkg = TestModels.shippedPackage();
        set = TestModels.evalSet();
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(pkg.dir().resolve("detector.pt"))));
        assertThat(fixture.path("detector_sha256").asText())
                .as("fixture made for this detector.pt; after a retrain run src/test/python/make_parity_fixture.py").isEqualTo(sha);
    }

    @Test
    void rawOutputsMatchPyTorchOnTenFixedInputs() throws Exception {
        try (MqDetModel mqdet = MqDetModel.load(pkg, MqDetModel.Options.builder().optPoolSize(1).build());
             Model detector = Model.newInstance("detector", ai.djl.Device.cpu(), "PyTorch");
             PromptEncoder prompts = new PromptEncoder(pkg)) {
            detector.load(pkg.dir(), "detector");
            Map<Integer, List<float[]>> bank = Evaluation.exemplarBank(mqdet, set, 5);
            List<EvalSet.Category> categories = set.evaluated();
            DetectorTranslator packer = DetectorTranslator.builder(pkg).build();
            NoBatchifyTranslator<DetectorTranslator.Input, float[][]> raw = new NoBatchifyTranslator<>() {
                @Override
                public NDList processInput(TranslatorContext ctx, DetectorTranslator.Input input) {
                    return packer.processInput(ctx, input);
                }

                @Override
                public float[][] processOutput(TranslatorContext ctx, NDList output) {
                    return new float[][] {output.get(0).toFloatArray(), output.get(1).toFloatArray()};
                }
            };
            int compared = 0;
            try (Predictor<DetectorTranslator.Input, float[][]> predictor = detector.newPredictor(raw)) {
                for (JsonNode c : fixture.path("cases")) {
                    String mode = c.path("mode").asText();
                    List<QueryCategory> querySet = new ArrayList<>();
                    for (EvalSet.Category category : categories) {
                        QueryCategory q = new QueryCategory(Integer.toString(category.id()), mode.equals("vision") ? null : category.name(),
                                mode.equals("text") ? List.of() : bank.get(category.id()));
                        querySet.add(q);
                    }
                    PreparedImage image = mqdet.decoder().prepare(Files.readAllBytes(set.dir().resolve(c.path("image").asText())));
                    List<PromptEncoder.Chunk> chunks = prompts.chunks(querySet);
                    assertThat(chunks).hasSize(1);
                    float[][] out = predictor.predict(new DetectorTranslator.Input(List.of(image), querySet, chunks.get(0).text()));
                    int anchors = c.path("logits_shape").get(1).asInt();
                    int k = c.path("logits_shape").get(2).asInt();
                    assertThat(out[1]).hasSize(anchors * k);
                    for (JsonNode sample : c.path("logits")) {
                        assertThat(out[1][sample.get(0).asInt() * k + sample.get(1).asInt()]).as("%s logit", c.path("image").asText())
                                .isCloseTo((float) sample.get(2).asDouble(), within(1e-4f));
                        compared++;
                    }
                    for (JsonNode sample : c.path("boxes")) {
                        int n = sample.get(0).asInt();
                        for (int j = 0; j < 4; j++) {
                            assertThat(out[0][n * 4 + j]).isCloseTo((float) sample.get(1 + j).asDouble(), within(1e-4f * Math.max(1f, Math.abs((float) sample.get(1 + j).asDouble()))));
                            compared++;
                        }
                    }
                    float max = Float.NEGATIVE_INFINITY;
                    for (float v : out[1]) {
                        max = Math.max(max, v);
                    }
                    assertThat(max).isCloseTo((float) c.path("logit_max").asDouble(), within(1e-4f));
                }
            }
            List<Integer> ids = categories.stream().map(EvalSet.Category::id).toList();
            for (JsonNode sample : fixture.path("exemplar_features")) {
                float[] vector = bank.get(ids.get(sample.get(0).asInt())).get(sample.get(1).asInt());
                assertThat(vector[sample.get(2).asInt()]).isCloseTo((float) sample.get(3).asDouble(), within(1e-4f));
                compared++;
            }
            assertThat(compared).isGreaterThan(2_000);
        }
    }

    @Test
    void javaEvaluationMatchesThePythonEvaluatorWithinHalfAPoint() {
        Map<String, Map<String, Map<String, Double>>> java;
        try (MqDetModel mqdet = MqDetModel.load(pkg, Evaluation.referenceOptions())) {
            java = Evaluation.run(mqdet, set, 5, 8);
        }
        JsonNode python = fixture.path("python_eval");
        for (String split : Evaluation.SPLITS) {
            for (String mode : Evaluation.MODES) {
                for (String metric : List.of("ap", "ap50")) {
                    assertThat(java.get(split).get(mode).get(metric)).as("%s %s %s", split, mode, metric)
                            .isCloseTo(python.path(split).path(mode).path(metric).asDouble(), within(0.5));
                }
            }
        }
    }
}
