package dev.mqdet.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mqdet.registry.config.RegistryConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Settings come from defaults, a properties file and the environment, in that order; bad ones fail at start, by name. */
class RegistryConfigTest {

    @Test
    void environmentOverridesFileOverridesDefaults(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("registry.properties"), """
                registry.port=9000
                registry.max.exemplars.per.category=3
                kafka.security.protocol=SSL
                schema.registry.basic.auth.user.info=u:p
                """);
        RegistryConfig config = RegistryConfig.fromSources(Optional.of(file),
                Map.of("MQDET_REGISTRY_PORT", "9100", "MQDET_BOOTSTRAP_SERVERS", "kafka:9092", "MQDET_REGISTRY_TOKEN", "t"));
        assertThat(config.getInt("registry.port", 0, 65535)).isEqualTo(9100);
        assertThat(config.limits().maxExemplarsPerCategory()).isEqualTo(3);
        assertThat(config.limits().maxCategoriesPerQuerySet()).isEqualTo(2000);
        assertThat(config.kafkaClientConfig()).containsEntry("bootstrap.servers", "kafka:9092").containsEntry("security.protocol", "SSL");
        assertThat(config.schemaRegistryConfig()).containsEntry("schema.registry.url", "http://localhost:8081")
                .containsEntry("schema.registry.basic.auth.user.info", "u:p");
        assertThat(config.get("registry.token")).isEqualTo("t");
        assertThat(RegistryConfig.envName("registry.max.image.pixels")).isEqualTo("MQDET_REGISTRY_MAX_IMAGE_PIXELS");
    }

    @Test
    void theExemplarLimitFollowsTheModelAndCannotExceedIt(@TempDir Path dir) throws Exception {
        int shipped = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Path.of("../models/mqdet-synth-v1/model.json").toFile())
                .at("/exemplars/max_exemplars_per_category").asInt();
        assertThat(RegistryConfig.of(Map.of()).limits().maxExemplarsPerCategory()).as("unset: the shipped model's").isEqualTo(shipped);
        assertThatThrownBy(() -> RegistryConfig.of(Map.of("registry.max.exemplars.per.category", Integer.toString(shipped + 1))))
                .hasMessageContaining("is above the " + shipped + " exemplars per category that the model takes");
        Path model = Files.writeString(dir.resolve("model.json"), "{\"exemplars\": {\"max_exemplars_per_category\": 16}}");
        assertThat(RegistryConfig.of(Map.of("registry.model.json", model.toString())).limits().maxExemplarsPerCategory()).isEqualTo(16);
        assertThatThrownBy(() -> RegistryConfig.of(Map.of("registry.model.json", dir.resolve("none.json").toString())))
                .hasMessageContaining("registry.model.json: cannot read");
    }

    @Test
    void badSettingsFailWithTheirName() {
        assertThatThrownBy(() -> RegistryConfig.of(Map.of("registry.max.image.bytes", "lots")).limits())
                .hasMessageContaining("registry.max.image.bytes").hasMessageContaining("whole number");
        assertThatThrownBy(() -> RegistryConfig.of(Map.of("registry.auth.reads", "maybe")).getBoolean("registry.auth.reads"))
                .hasMessageContaining("registry.auth.reads");
        assertThatThrownBy(() -> RegistryServer.start(RegistryConfig.of(Map.of("registry.token", "short"))))
                .hasMessageContaining("MQDET_REGISTRY_TOKEN").hasMessageContaining("16 characters");
        assertThatThrownBy(() -> RegistryConfig.fromSources(Optional.of(Path.of("/nonexistent/registry.properties")), Map.of()))
                .hasMessageContaining("/nonexistent/registry.properties");
    }
}
