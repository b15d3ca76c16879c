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

    @Test
    void aBatchSizeOrChunkOfZeroIsRefusedNamingKeyAndRange() {
        assertThatThrownBy(() -> StreamsAppConfig.of(Map.of(StreamsAppConfig.BATCH_SIZE, "0")))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("mqdet.batch.size").hasMessageContaining("from 1 to 1024").hasMessageContaining("'0'");
        assertThatThrownBy(() -> StreamsAppConfig.load(null, Map.of("MQDET_MODEL_PREDICTORS", "0"), Map.of()))
                .isInstanceOf(InvalidConfigurationException.class).hasMessageContaining("mqdet.model.predictors");
    }

    @Test
    void s3SettingsAreReadAndTheSecretIsNeverQuoted() {
        StreamsAppConfig config = StreamsAppConfig.of(Map.of(StreamsAppConfig.S3_ENDPOINT, "http://127.0.0.1:9000",
                StreamsAppConfig.S3_PATH_STYLE, "true", StreamsAppConfig.S3_REGION, "eu-west-1",
                StreamsAppConfig.S3_ACCESS_KEY_ID, "AKIA1", StreamsAppConfig.S3_SECRET_ACCESS_KEY, "hush-hush"));
        assertThat(config.s3Settings()).extracting("region", "endpoint", "pathStyle").containsExactly("eu-west-1", "http://127.0.0.1:9000", true);
        assertThat(config.s3Settings().toString()).doesNotContain("hush-hush");
        assertThatThrownBy(() -> StreamsAppConfig.of(Map.of(StreamsAppConfig.S3_SECRET_ACCESS_KEY, "hush-hush")))
                .isInstanceOf(InvalidConfigurationException.class).hasMessageContaining("together")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hush-hush"));
        assertThat(StreamsAppConfig.of(Map.of()).s3Settings().endpoint()).as("default: AWS's endpoint").isEmpty();
    }

    @Test
    void everyRuleRefusesWhatItMust() {
        Map<String, String> bad = Map.ofEntries(
                Map.entry(StreamsAppConfig.BATCH_SIZE, "eight"),
                Map.entry(StreamsAppConfig.MODEL_PREDICTORS, "0"),
                Map.entry(StreamsAppConfig.BATCH_MAX_WAIT_MS, "-1"),
                Map.entry(StreamsAppConfig.BATCH_PIPELINED, "ture"),
                Map.entry(StreamsAppConfig.BATCH_DISPATCH, "lazy"),
                Map.entry(StreamsAppConfig.BATCH_MAX_BLOCK_MS, "0"),
                Map.entry(StreamsAppConfig.BATCH_COMMIT_ON_ANSWER, "soon"),
                Map.entry(StreamsAppConfig.MAX_WAITING_FOR_QUERY_SET, "0"),
                Map.entry(StreamsAppConfig.QUERY_SET_CACHE_VECTORS, "-5"),
                Map.entry(StreamsAppConfig.BUFFER_MAX_EVENTS, "0"),
                Map.entry(StreamsAppConfig.DECODE_MAX_CONCURRENT, "2000"),
                Map.entry(StreamsAppConfig.BUFFER_MAX_BYTES, "lots"),
                Map.entry(StreamsAppConfig.SCORE_THRESHOLD, "1.5"),
                Map.entry(StreamsAppConfig.NMS_IOU, "0"),
                Map.entry(StreamsAppConfig.CROSS_CATEGORY_IOU, "0"),
                Map.entry(StreamsAppConfig.MAX_DETECTIONS, "0"),
                Map.entry(StreamsAppConfig.MAX_IMAGE_PIXELS, "0"),
                Map.entry(StreamsAppConfig.MAX_IMAGE_BYTES, "0"),
                Map.entry(StreamsAppConfig.FETCH_ALLOWED_PREFIXES, "https://ok.example.com/,ftp://files.example.com/"),
                Map.entry(StreamsAppConfig.FETCH_TIMEOUT_MS, "0"),
                Map.entry(StreamsAppConfig.S3_REGION, "EU West"),
                Map.entry(StreamsAppConfig.S3_ENDPOINT, "ftp://store.example.com"),
                Map.entry(StreamsAppConfig.S3_PATH_STYLE, "maybe"),
                Map.entry(StreamsAppConfig.S3_ACCESS_KEY_ID, "AKIA-without-its-secret"),
                Map.entry(StreamsAppConfig.S3_SECRET_ACCESS_KEY, "a-secret-without-its-key-id"),
                Map.entry(StreamsAppConfig.UNKNOWN_QUERY_SET_WAIT_MS, "soon"),
                Map.entry(StreamsAppConfig.MAX_CATEGORIES, "0"),
                Map.entry(StreamsAppConfig.HTTP_PORT, "70000"),
                Map.entry(StreamsAppConfig.MODEL_DEVICE, "tpu"),
                Map.entry(StreamsAppConfig.TOPIC_IMAGES, "images with spaces"),
                Map.entry(StreamsAppConfig.TOPIC_DLQ, ""),
                Map.entry(StreamsAppConfig.TRACKS_ENABLED, "yes"),
                Map.entry(StreamsAppConfig.CALIBRATION_ENABLED, "on"),
                Map.entry(StreamsAppConfig.TRACKS_GRACE_MS, "-1"),
                Map.entry(StreamsAppConfig.TRACKS_MAX_MISSED_FRAMES, "-1"),
                Map.entry(StreamsAppConfig.TRACKS_MAX_IDLE_MS, "0"),
                Map.entry(StreamsAppConfig.TRACKS_HIGH_SCORE, "2"),
                Map.entry(StreamsAppConfig.TRACKS_MATCH_IOU, "-0.1"),
                Map.entry(StreamsAppConfig.TRACKS_LOW_MATCH_IOU, "1.1"),
                Map.entry(StreamsAppConfig.TRACKS_UPDATE_IOU, "most"),
                Map.entry(StreamsAppConfig.TRACKS_UPDATE_SCORE_DELTA, "0"),
                Map.entry(StreamsAppConfig.TRACKS_MAX_EVENT_IDS, "0"));
        assertThat(bad.keySet()).as("every key with a range has a bad value here")
                .containsAll(StreamsAppConfig.SETTINGS.keySet().stream().filter(k -> !k.equals(StreamsAppConfig.MODEL_DIR)
                        && !k.startsWith("mqdet.topic.")).toList());
        bad.forEach((key, value) -> assertThatThrownBy(() -> StreamsAppConfig.of(Map.of(key, value))).as(key + "=" + value)
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining(key)
                .satisfies(e -> assertThat(((InvalidConfigurationException) e).key()).isEqualTo(key)));
        // Edges that are allowed.
        StreamsAppConfig edges = StreamsAppConfig.of(Map.of(StreamsAppConfig.HTTP_PORT, "-1", StreamsAppConfig.MODEL_DEVICE, "gpu:1",
                StreamsAppConfig.SCORE_THRESHOLD, "0", StreamsAppConfig.NMS_IOU, "1", StreamsAppConfig.BATCH_SIZE, "1",
                StreamsAppConfig.FETCH_ALLOWED_PREFIXES, "https://img.example.com, file:/data/images/"));
        assertThat(edges.getInt(StreamsAppConfig.HTTP_PORT)).isEqualTo(-1);
        assertThat(edges.getList(StreamsAppConfig.FETCH_ALLOWED_PREFIXES)).containsExactly("https://img.example.com", "file:/data/images/");
    }

    @Test
    void anUnknownAppKeyIsRefusedWithASuggestion(@TempDir Path dir) throws IOException {
        assertThatThrownBy(() -> StreamsAppConfig.of(Map.of("mqdet.batch.sise", "8")))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("unknown configuration key mqdet.batch.sise").hasMessageContaining("did you mean mqdet.batch.size?");
        Path file = dir.resolve("app.properties");
        Files.writeString(file, "mqdet.completely.different=1\n");
        assertThatThrownBy(() -> StreamsAppConfig.load(file, Map.of(), Map.of()))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("unknown configuration key mqdet.completely.different").hasMessageNotContaining("did you mean");
    }

    @Test
    void onlyKafkaVariablesThatNameARealSettingArePassedThrough() {
        StreamsAppConfig config = StreamsAppConfig.load(null, Map.of(
                "KAFKA_PORT", "tcp://10.0.0.1:9092", // what Kubernetes injects for a service named kafka
                "KAFKA_SERVICE_HOST", "10.0.0.1",
                "KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
                "KAFKA_NUM_STREAM_THREADS", "2",
                "KAFKA_PRODUCER_LINGER_MS", "5",
                "KAFKA_MAIN_CONSUMER_MAX_POLL_RECORDS", "50",
                "KAFKA_TOPIC_SEGMENT_MS", "3600000",
                "KAFKA_BASIC_AUTH_USER_INFO", "u:p",
                "KAFKA_SCHEMA_REGISTRY_REQUEST_TIMEOUT_MS", "2000",
                "MQDET_REGISTRY_TOKEN", "not-ours-but-the-registry's"), Map.of());
        assertThat(config.passThrough())
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("num.stream.threads", "2")
                .containsEntry("producer.linger.ms", "5")
                .containsEntry("main.consumer.max.poll.records", "50")
                .containsEntry("topic.segment.ms", "3600000")
                .doesNotContainKey("port")
                .doesNotContainKey("service.host");
        assertThat(config.serdeConfig()).containsEntry("basic.auth.user.info", "u:p")
                .containsEntry("schema.registry.request.timeout.ms", "2000");
        assertThat(config.asMap()).doesNotContainKey("mqdet.registry.token");
    }
}
