package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StreamsAppConfigTest {

    @Test
    void fileThenEnvironmentThenOverridesWin(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("app.properties");
        Files.writeString(file, """
                mqdet.batch.size=4
                mqdet.batch.max-wait-ms=20
                bootstrap.servers=file:9092
                num.stream.threads=2
                """);
        StreamsAppConfig config = StreamsAppConfig.load(file,
                Map.of("MQDET_BATCH_MAX_WAIT_MS", "30", "KAFKA_BOOTSTRAP_SERVERS", "env:9092",
                        "MQDET_SCHEMA_REGISTRY_URL", "http://registry:8081", "KAFKA_PROCESSING_GUARANTEE", "at_least_once", "HOME", "/root"),
                Map.of("mqdet.batch.size", "16"));
        assertThat(config.getInt(StreamsAppConfig.BATCH_SIZE)).isEqualTo(16);
        assertThat(config.getLong(StreamsAppConfig.BATCH_MAX_WAIT_MS)).isEqualTo(30);
        assertThat(config.passThrough()).containsEntry("bootstrap.servers", "env:9092")
                .containsEntry("num.stream.threads", "2")
                .containsEntry("processing.guarantee", "at_least_once")
                .doesNotContainKey("mqdet.batch.size")
                .doesNotContainKey("home");
        assertThat(config.serdeConfig()).containsEntry("schema.registry.url", "http://registry:8081");
    }

    @Test
    void exactlyOnceIsTheDefault() {
        assertThat(StreamsAppConfig.of(Map.of()).passThrough()).containsEntry("processing.guarantee", "exactly_once_v2");
        assertThat(StreamsAppConfig.of(Map.of()).get(StreamsAppConfig.TOPIC_DLQ)).isEqualTo("images-dlq");
    }

    @Test
    void everyAppKeyHasAnEnvironmentVariable() {
        for (String key : StreamsAppConfig.DEFAULTS.keySet()) {
            if (key.startsWith("mqdet.")) {
                String variable = key.toUpperCase().replace('.', '_').replace('-', '_');
                assertThat(StreamsAppConfig.keyOf(variable)).as(variable).isEqualTo(key);
            }
        }
    }

    @Test
    void aSwitchIsTrueOrFalseAndNothingElse() {
        assertThat(StreamsAppConfig.of(Map.of()).getBoolean(StreamsAppConfig.BATCH_PIPELINED)).isTrue();
        assertThat(StreamsAppConfig.of(Map.of(StreamsAppConfig.BATCH_PIPELINED, " FALSE ")).getBoolean(StreamsAppConfig.BATCH_PIPELINED)).isFalse();
        assertThatThrownBy(() -> StreamsAppConfig.of(Map.of(StreamsAppConfig.BATCH_PIPELINED, "ture")).getBoolean(StreamsAppConfig.BATCH_PIPELINED))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("mqdet.batch.pipelined").hasMessageContaining("ture");
    }
}
