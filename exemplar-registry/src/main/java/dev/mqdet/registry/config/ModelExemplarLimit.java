package dev.mqdet.registry.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How many exemplars a category may have, as the model states it ({@code exemplars.max_exemplars_per_category}
 * of its {@code model.json}): the shipped model's, which travels in this jar, or that of {@code registry.model.json}.
 * Only this field is read, so the registry stays free of the inference engine.
 */
record ModelExemplarLimit(int max, String source) {

    static final String SHIPPED = "/dev/mqdet/registry/shipped-model-dir/model.json";

    static ModelExemplarLimit read(String path) {
        String source = path.isBlank() ? "the shipped model's model.json" : path;
        try (InputStream in = path.isBlank() ? ModelExemplarLimit.class.getResourceAsStream(SHIPPED) : Files.newInputStream(Path.of(path))) {
            if (in == null) {
                throw new InvalidSettingException("registry.model.json", "the shipped model's model.json is missing from the class path");
            }
            JsonNode max = new ObjectMapper().readTree(in).at("/exemplars/max_exemplars_per_category");
            if (!max.isInt() || max.asInt() < 1) {
                throw new InvalidSettingException("registry.model.json", source + " has no exemplars.max_exemplars_per_category (a positive integer)");
            }
            return new ModelExemplarLimit(max.asInt(), source);
        } catch (IOException e) {
            throw new InvalidSettingException("registry.model.json", "registry.model.json: cannot read " + source + ": " + e.getMessage());
        }
    }
}
