package dev.mqdet.streams;

import dev.mqdet.config.KeySuggestions;
import dev.mqdet.streams.detect.ImageSource;
import dev.mqdet.streams.detect.S3Settings;
import dev.mqdet.topics.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The streams app's configuration: a properties file, overridden by environment variables, overridden by
 * explicit settings. Keys starting with {@code mqdet.} are the app's own; every other key (Kafka Streams,
 * producer, consumer, {@code schema.registry.*}) is passed through.
 *
 * <p>Environment: {@code MQDET_BATCH_SIZE=16} sets {@code mqdet.batch.size} (dots and dashes become underscores,
 * upper case); {@code MQDET_BOOTSTRAP_SERVERS} and {@code MQDET_SCHEMA_REGISTRY_URL} set the two addresses (the
 * names the exemplar registry reads too); {@code KAFKA_<KEY>} sets any pass-through key, e.g.
 * {@code KAFKA_PROCESSING_GUARANTEE} or {@code KAFKA_SECURITY_PROTOCOL}.
 */
public final class StreamsAppConfig {

    private static final Logger log = LoggerFactory.getLogger(StreamsAppConfig.class);

    public static final String TOPIC_IMAGES = "mqdet.topic.images";
    public static final String TOPIC_EXEMPLAR_QUERIES = "mqdet.topic.exemplar-queries";
    public static final String TOPIC_EXEMPLAR_EMBEDDINGS = "mqdet.topic.exemplar-embeddings";
    public static final String TOPIC_DETECTIONS = "mqdet.topic.detections";
    public static final String TOPIC_TRACKS = "mqdet.topic.tracks";
    public static final String TOPIC_DLQ = "mqdet.topic.dlq";
    public static final String TOPIC_EXEMPLAR_QUERIES_DLQ = "mqdet.topic.exemplar-queries-dlq";
    public static final String MODEL_DIR = "mqdet.model.dir";
    public static final String MODEL_DEVICE = "mqdet.model.device";
    public static final String MODEL_PREDICTORS = "mqdet.model.predictors";
    public static final String BATCH_SIZE = "mqdet.batch.size";
    public static final String BATCH_MAX_WAIT_MS = "mqdet.batch.max-wait-ms";
    public static final String BATCH_PIPELINED = "mqdet.batch.pipelined";
    public static final String BATCH_DISPATCH = "mqdet.batch.dispatch";
    public static final String BATCH_MAX_BLOCK_MS = "mqdet.batch.max-block-ms";
    public static final String BATCH_COMMIT_ON_ANSWER = "mqdet.batch.commit-on-answer";
    public static final String SCORE_THRESHOLD = "mqdet.detect.score-threshold";
    public static final String NMS_IOU = "mqdet.detect.nms-iou";
    public static final String CROSS_CATEGORY_IOU = "mqdet.detect.cross-category-iou";
    public static final String MAX_DETECTIONS = "mqdet.detect.max-detections";
    public static final String MAX_IMAGE_PIXELS = "mqdet.image.max-pixels";
    public static final String MAX_IMAGE_BYTES = "mqdet.image.max-bytes";
    public static final String FETCH_ALLOWED_PREFIXES = "mqdet.image.fetch.allowed-prefixes";
    public static final String FETCH_TIMEOUT_MS = "mqdet.image.fetch.timeout-ms";
    public static final String S3_REGION = "mqdet.image.s3.region";
    public static final String S3_ENDPOINT = "mqdet.image.s3.endpoint";
    public static final String S3_PATH_STYLE = "mqdet.image.s3.path-style";
    public static final String S3_ACCESS_KEY_ID = "mqdet.image.s3.access-key-id";
    public static final String S3_SECRET_ACCESS_KEY = "mqdet.image.s3.secret-access-key";
    public static final String UNKNOWN_QUERY_SET_WAIT_MS = "mqdet.query-set.unknown-wait-ms";
    public static final String MAX_CATEGORIES = "mqdet.query-set.max-categories";
    public static final String MAX_WAITING_FOR_QUERY_SET = "mqdet.query-set.max-waiting";
    public static final String QUERY_SET_CACHE_VECTORS = "mqdet.query-set.cache-vectors";
    public static final String BUFFER_MAX_EVENTS = "mqdet.buffer.max-events";
    public static final String BUFFER_MAX_BYTES = "mqdet.buffer.max-bytes";
    public static final String DECODE_MAX_CONCURRENT = "mqdet.decode.max-concurrent";
    public static final String HTTP_PORT = "mqdet.http.port";
    public static final String CALIBRATION_ENABLED = "mqdet.calibration.enabled";
    public static final String TRACKS_ENABLED = "mqdet.tracks.enabled";
    public static final String TRACKS_GRACE_MS = "mqdet.tracks.grace-ms";
    public static final String TRACKS_MAX_MISSED_FRAMES = "mqdet.tracks.max-missed-frames";
    public static final String TRACKS_MAX_IDLE_MS = "mqdet.tracks.max-idle-ms";
    public static final String TRACKS_HIGH_SCORE = "mqdet.tracks.high-score";
    public static final String TRACKS_MATCH_IOU = "mqdet.tracks.match-iou";
    public static final String TRACKS_LOW_MATCH_IOU = "mqdet.tracks.low-match-iou";
    public static final String TRACKS_UPDATE_IOU = "mqdet.tracks.update-iou";
    public static final String TRACKS_UPDATE_SCORE_DELTA = "mqdet.tracks.update-score-delta";
    public static final String TRACKS_MAX_EVENT_IDS = "mqdet.tracks.max-event-ids";

    /** The topic settings of a pipeline whose topics are the catalogue's names with {@code prefix} in front. */
    public static Map<String, String> topicNames(String prefix) {
        return Map.of(
                TOPIC_IMAGES, prefix + Topics.IMAGES.defaultName(),
                TOPIC_EXEMPLAR_QUERIES, prefix + Topics.EXEMPLAR_QUERIES.defaultName(),
                TOPIC_EXEMPLAR_EMBEDDINGS, prefix + Topics.EXEMPLAR_EMBEDDINGS.defaultName(),
                TOPIC_DETECTIONS, prefix + Topics.DETECTIONS.defaultName(),
                TOPIC_TRACKS, prefix + Topics.TRACKS.defaultName(),
                TOPIC_DLQ, prefix + Topics.IMAGES_DLQ.defaultName(),
                TOPIC_EXEMPLAR_QUERIES_DLQ, prefix + Topics.EXEMPLAR_QUERIES_DLQ.defaultName());
    }

    /** One app key: its default and the rule its value must follow. */
    public record Setting(String key, String defaultValue, SettingRule rule) {}

    /**
     * Every {@code mqdet.*} key, its default and its rule: the one table to extend with a new key. A key not in it is
     * refused at start, and so is a value its rule does not allow.
     */
    public static final Map<String, Setting> SETTINGS = table(
            new Setting(TOPIC_IMAGES, Topics.IMAGES.defaultName(), SettingRule.topicName()),
            new Setting(TOPIC_EXEMPLAR_QUERIES, Topics.EXEMPLAR_QUERIES.defaultName(), SettingRule.topicName()),
            new Setting(TOPIC_EXEMPLAR_EMBEDDINGS, Topics.EXEMPLAR_EMBEDDINGS.defaultName(), SettingRule.topicName()),
            new Setting(TOPIC_DETECTIONS, Topics.DETECTIONS.defaultName(), SettingRule.topicName()),
            new Setting(TOPIC_TRACKS, Topics.TRACKS.defaultName(), SettingRule.topicName()),
            new Setting(TOPIC_DLQ, Topics.IMAGES_DLQ.defaultName(), SettingRule.topicName()),
            new Setting(TOPIC_EXEMPLAR_QUERIES_DLQ, Topics.EXEMPLAR_QUERIES_DLQ.defaultName(), SettingRule.topicName()),
            // empty: the model package shipped in the jar; otherwise its folder, which ModelPackage.load checks
            new Setting(MODEL_DIR, "", SettingRule.any("a model package folder, or empty for the shipped one")),
            new Setting(MODEL_DEVICE, "auto", SettingRule.oneOf(List.of("auto", "cpu", "gpu"), "gpu:<n>", Pattern.compile("gpu:[0-9]{1,3}"))),
            // CPU: two batches side by side, half the cores each; GPU: one batch's CPU work overlaps another's GPU work
            new Setting(MODEL_PREDICTORS, "2", SettingRule.intRange(1, 64)),
            new Setting(BATCH_SIZE, "8", SettingRule.intRange(1, 1024)),
            new Setting(BATCH_MAX_WAIT_MS, "100", SettingRule.longRange(0, 600_000)),
            // inference on a worker thread while the stream thread reads on
            new Setting(BATCH_PIPELINED, "true", SettingRule.bool()),
            // a batch starts as soon as a predictor is free; "fill" waits for a full batch or max-wait
            new Setting(BATCH_DISPATCH, "eager", SettingRule.oneOf(List.of("eager", "fill"), null, null)),
            // longest the stream thread waits for a job slot before it goes back to Kafka (commits, polls)
            new Setting(BATCH_MAX_BLOCK_MS, "2000", SettingRule.longRange(1, 60_000)),
            // ask for a commit as soon as a batch's answers are forwarded and the buffer has drained: a
            // read_committed consumer sees them then, not at the next commit.interval.ms
            new Setting(BATCH_COMMIT_ON_ANSWER, "true", SettingRule.bool()),
            new Setting(SCORE_THRESHOLD, "0.3", SettingRule.floatRange(0, false, 1)),
            new Setting(NMS_IOU, "0.5", SettingRule.floatRange(0, true, 1)),
            // boxes of different categories overlapping more than this are one object, kept by its best category; 1: off
            new Setting(CROSS_CATEGORY_IOU, "1", SettingRule.floatRange(0, true, 1)),
            new Setting(MAX_DETECTIONS, "100", SettingRule.intRange(1, 100_000)),
            new Setting(MAX_IMAGE_PIXELS, "40000000", SettingRule.longRange(1, 1L << 31)),
            new Setting(MAX_IMAGE_BYTES, Integer.toString(16 << 20), SettingRule.intRange(1, 1 << 30)),
            // e.g. "https://images.example.com/,file:/data/images/"
            new Setting(FETCH_ALLOWED_PREFIXES, "", SettingRule.of("a comma-separated list of http(s)://, s3://bucket/ or file: prefixes",
                    value -> ImageSource.checkAllowedPrefixes(list(value)))),
            // one HTTP or S3 fetch, connect to last byte
            new Setting(FETCH_TIMEOUT_MS, "10000", SettingRule.longRange(1, 600_000)),
            // s3:// references (see dev.mqdet.streams.detect.S3Settings); empty: the AWS SDK's default chains
            new Setting(S3_REGION, "", SettingRule.oneOf(List.of(""), "an AWS region such as eu-west-1", Pattern.compile("[a-z0-9-]{1,40}"))),
            new Setting(S3_ENDPOINT, "", SettingRule.of("empty or http(s)://host[:port] of an S3-compatible store",
                    value -> { if (!value.isBlank()) S3Settings.checkEndpoint(value); })),
            new Setting(S3_PATH_STYLE, "false", SettingRule.bool()),
            new Setting(S3_ACCESS_KEY_ID, "", SettingRule.any("an access key id, with the secret access key, or empty")),
            new Setting(S3_SECRET_ACCESS_KEY, "", SettingRule.any("a secret access key, with the access key id, or empty")),
            new Setting(UNKNOWN_QUERY_SET_WAIT_MS, "0", SettingRule.longRange(0, 86_400_000)),
            new Setting(MAX_CATEGORIES, "5000", SettingRule.intRange(1, 100_000)),
            // per task; more are dead-lettered at once
            new Setting(MAX_WAITING_FOR_QUERY_SET, "10000", SettingRule.intRange(1, 10_000_000)),
            // exemplar vectors kept ready for the model (576 floats each for the shipped model: about 460 MB)
            new Setting(QUERY_SET_CACHE_VECTORS, "200000", SettingRule.longRange(1, 1L << 40)),
            // per instance, over all tasks; an event over either cap is dead-lettered (stage buffer)
            new Setting(BUFFER_MAX_EVENTS, "10000", SettingRule.intRange(1, 10_000_000)),
            new Setting(BUFFER_MAX_BYTES, Long.toString(256L << 20), SettingRule.longRange(1, 1L << 40)),
            // images fetched and decoded at once per instance (each decode holds its full pixel buffer)
            new Setting(DECODE_MAX_CONCURRENT, "4", SettingRule.intRange(1, 1_024)),
            // -1: no HTTP server; 0: any free port
            new Setting(HTTP_PORT, "8080", SettingRule.intRange(-1, 65_535)),
            // a threshold per category from its own exemplars, when it is encoded (see dev.mqdet.streams.encode.Calibration)
            new Setting(CALIBRATION_ENABLED, "true", SettingRule.bool()),
            // objects followed over each source's frames (see dev.mqdet.streams.track.TrackerSettings)
            new Setting(TRACKS_ENABLED, "true", SettingRule.bool()),
            new Setting(TRACKS_GRACE_MS, "500", SettingRule.longRange(0, 600_000)),
            new Setting(TRACKS_MAX_MISSED_FRAMES, "30", SettingRule.intRange(0, 100_000)),
            new Setting(TRACKS_MAX_IDLE_MS, "10000", SettingRule.longRange(1, 86_400_000)),
            new Setting(TRACKS_HIGH_SCORE, "0.5", SettingRule.floatRange(0, false, 1)),
            new Setting(TRACKS_MATCH_IOU, "0.2", SettingRule.floatRange(0, false, 1)),
            new Setting(TRACKS_LOW_MATCH_IOU, "0.5", SettingRule.floatRange(0, false, 1)),
            new Setting(TRACKS_UPDATE_IOU, "0.9", SettingRule.floatRange(0, false, 1)),
            new Setting(TRACKS_UPDATE_SCORE_DELTA, "0.1", SettingRule.floatRange(0, true, 1)),
            new Setting(TRACKS_MAX_EVENT_IDS, "100", SettingRule.intRange(1, 100_000)));

    /** Defaults of every key, the documentation of what can be set. */
    public static final Map<String, String> DEFAULTS = defaults();

    private static Map<String, String> defaults() {
        Map<String, String> defaults = new HashMap<>();
        SETTINGS.values().forEach(setting -> defaults.put(setting.key(), setting.defaultValue()));
        defaults.put(StreamsConfig.APPLICATION_ID_CONFIG, "mqdet-streams");
        defaults.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        defaults.put("processing.exception.handler.global.enabled", "true");
        // The stream thread forwards a finished batch when it comes back from poll: a short poll answers sooner
        // when no new record arrives (Kafka's default is 100 ms).
        defaults.put(StreamsConfig.POLL_MS_CONFIG, "10");
        // Under exactly-once a read_committed consumer sees a detection at the next commit: 50 ms commits gave p50
        // 81 / 87 ms at 0.1 / 0.5 of capacity against 169 / 122 ms with Kafka's 100 (docs/benchmarks.md, bench-latency).
        defaults.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "50");
        // A dead letter carries the original image bytes: room for the largest record the topics take.
        defaults.put("producer.max.request.size", Integer.toString(dev.mqdet.topics.Topic.MAX_MESSAGE_BYTES));
        // A replaced stream thread (after a transient failure such as the schema registry being down) does not leave
        // the group, so the rebalance that gives its tasks to the new thread waits for the old member's session to
        // expire: at Kafka's 45 s the app stood still for 43 s after the registry was back (RegistryRestartTest).
        // Heartbeats run on their own thread, so long inference does not end a session; max.poll.interval.ms does.
        defaults.put(StreamsConfig.mainConsumerPrefix("session.timeout.ms"), "10000");
        // Never act on an aborted registry write, also under at_least_once (exactly-once sets this itself).
        defaults.put("consumer.isolation.level", "read_committed");
        return Map.copyOf(defaults);
    }

    private static Map<String, Setting> table(Setting... settings) {
        Map<String, Setting> table = new LinkedHashMap<>();
        for (Setting setting : settings) {
            if (table.put(setting.key(), setting) != null) {
                throw new IllegalStateException("key " + setting.key() + " is listed twice");
            }
            setting.rule().check(setting.key(), setting.defaultValue()); // a default is a value like any other
        }
        return Collections.unmodifiableMap(table);
    }

    private final Map<String, String> values;

    private StreamsAppConfig(Map<String, String> values) {
        this.values = Map.copyOf(values);
    }

    /**
     * Defaults, then the file (if any), then the environment, then {@code overrides}; every {@code mqdet.*} key is then
     * checked against {@link #SETTINGS}.
     *
     * @throws InvalidConfigurationException for an unknown {@code mqdet.*} key or a value outside its rule
     */
    public static StreamsAppConfig load(Path file, Map<String, String> environment, Map<String, String> overrides) {
        Map<String, String> values = new HashMap<>(DEFAULTS);
        if (file != null) {
            Properties properties = new Properties();
            try (InputStream in = Files.newInputStream(file)) {
                properties.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException("configuration file " + file + " is unreadable", e);
            }
            properties.stringPropertyNames().forEach(key -> values.put(key, properties.getProperty(key)));
        }
        List<String> ignored = new ArrayList<>();
        environment.forEach((name, value) -> {
            String key = keyOf(name);
            if (key != null) {
                values.put(key, value);
            } else if (name.startsWith("KAFKA_") || name.startsWith("MQDET_")) {
                ignored.add(name);
            }
        });
        if (!ignored.isEmpty()) {
            // Names only: values may be secrets. Orchestrators set KAFKA_PORT and the like on their own.
            Collections.sort(ignored);
            log.info("ignored environment variables that set no streams app, Kafka or Schema Registry setting: {}", ignored);
        }
        values.putAll(overrides);
        validate(values);
        return new StreamsAppConfig(values);
    }

    private static void validate(Map<String, String> values) {
        List<String> keys = new ArrayList<>(values.keySet());
        Collections.sort(keys);
        for (String key : keys) {
            if (!key.startsWith("mqdet.")) {
                continue;
            }
            Setting setting = SETTINGS.get(key);
            if (setting == null) {
                String near = KeySuggestions.closest(key, SETTINGS.keySet());
                throw new InvalidConfigurationException(key, "unknown configuration key " + key
                        + (near == null ? "" : "; did you mean " + near + "?") + " (known keys: " + SETTINGS.keySet() + ")");
            }
            String value = values.get(key);
            if (value == null) {
                throw new InvalidConfigurationException(key, "configuration key " + key + " has no value");
            }
            setting.rule().check(key, value);
        }
        boolean noKeyId = values.getOrDefault(S3_ACCESS_KEY_ID, "").isBlank();
        if (noKeyId != values.getOrDefault(S3_SECRET_ACCESS_KEY, "").isBlank()) { // names the key that is set, never a value
            throw new InvalidConfigurationException(noKeyId ? S3_SECRET_ACCESS_KEY : S3_ACCESS_KEY_ID, "configuration keys " + S3_ACCESS_KEY_ID + " and "
                    + S3_SECRET_ACCESS_KEY + " are set together or not at all (both empty: the AWS SDK's default credentials chain)");
        }
    }

    /** The {@code mqdet.image.s3.*} settings. */
    public S3Settings s3Settings() {
        return new S3Settings(get(S3_REGION), get(S3_ENDPOINT), getBoolean(S3_PATH_STYLE), get(S3_ACCESS_KEY_ID), get(S3_SECRET_ACCESS_KEY));
    }

    public static StreamsAppConfig of(Map<String, String> overrides) {
        return load(null, Map.of(), overrides);
    }

    /** The configuration key an environment variable sets, or null when it is not one of ours. */
    public static String keyOf(String variable) {
        String lower = variable.toLowerCase(Locale.ROOT);
        if (variable.equals("MQDET_BOOTSTRAP_SERVERS")) { // the same names the exemplar registry reads
            return "bootstrap.servers";
        }
        if (variable.equals("MQDET_SCHEMA_REGISTRY_URL") || variable.equals("SCHEMA_REGISTRY_URL")) {
            return "schema.registry.url";
        }
        if (variable.startsWith("MQDET_")) {
            String rest = lower.substring("mqdet_".length());
            // MQDET_BATCH_MAX_WAIT_MS -> mqdet.batch.max-wait-ms: compare with '-' and '.' both read as '_'
            return SETTINGS.keySet().stream().filter(k -> k.replace('-', '_').replace('.', '_').equals("mqdet_" + rest))
                    .findFirst().orElse(null);
        }
        if (variable.startsWith("KAFKA_")) {
            String key = lower.substring("kafka_".length()).replace('_', '.');
            return KafkaSettingNames.isKnown(key) ? key : null;
        }
        return null;
    }

    public String get(String key) {
        String value = values.get(key);
        if (value == null) {
            throw new IllegalArgumentException("configuration key " + key + " is not set");
        }
        return value;
    }

    public int getInt(String key) {
        return Integer.parseInt(get(key).trim());
    }

    public long getLong(String key) {
        return Long.parseLong(get(key).trim());
    }

    public float getFloat(String key) {
        return Float.parseFloat(get(key).trim());
    }

    /** "true" or "false" (any case); anything else is refused rather than read as false. */
    public boolean getBoolean(String key) {
        String value = get(key).trim();
        if (!value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")) {
            throw new IllegalArgumentException("configuration key " + key + " must be true or false, not '" + value + "'");
        }
        return Boolean.parseBoolean(value);
    }

    public List<String> getList(String key) {
        return list(get(key));
    }

    private static List<String> list(String value) {
        String trimmed = value.trim();
        return trimmed.isEmpty() ? List.of() : List.of(trimmed.split("\\s*,\\s*"));
    }

    /** Every key that is not the app's own: Kafka Streams, clients and schema registry settings. */
    public Properties passThrough() {
        Properties properties = new Properties();
        values.forEach((key, value) -> {
            if (!key.startsWith("mqdet.")) {
                properties.put(key, value);
            }
        });
        return properties;
    }

    /** Settings of the Avro serdes (schema.registry.*, auto.register.schemas, basic auth...). */
    public Map<String, Object> serdeConfig() {
        Map<String, Object> serde = new HashMap<>();
        values.forEach((key, value) -> {
            if (key.startsWith("schema.registry.") || key.startsWith("basic.auth.") || key.equals("auto.register.schemas")) {
                serde.put(key, value);
            }
        });
        return serde;
    }

    public Map<String, String> asMap() {
        return values;
    }
}
