package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.inference.ModelPackage;
import dev.mqdet.inference.MqDetModel;
import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.streams.ops.PipelineMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The topology printed in the README is the one the code builds. */
class ReadmeTopologyTest {

    @Test
    void readmeShowsTheCurrentTopology() throws IOException {
        var registry = new RestSchemaRegistryClient(Map.of("schema.registry.url", "http://127.0.0.1:1"));
        String described;
        try (MqDetModel model = MqDetModel.load(ModelPackage.load(Path.of(TestPipelines.modelDir())), MqDetModel.Options.builder().optPoolSize(1).build())) {
            described = DetectionTopology.build(StreamsAppConfig.of(Map.of()), model, registry, new PipelineMetrics(new SimpleMeterRegistry()))
                    .describe().toString();
        }
        String readme = Files.readString(TestPipelines.repoRoot().resolve("README.md"));
        assertThat(readme).contains(described.strip());
    }
}
