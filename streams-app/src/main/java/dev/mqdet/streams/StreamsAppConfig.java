package dev.mqdet.streams;

import dev.mqdet.topics.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;

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

    public static final String TOPIC_IMAGES = "mqdet.topic.images";
    public static final String TOPIC_EXEMPLAR_QUERIES = "mqdet.topic.exemplar-queries";
    public static final String TOPIC_EXEMPLAR_EMBEDDINGS = "mqdet.topic.exemplar-embeddings";
    public static final String TOPIC_DETECTIONS = "mqdet.topic.detections";
    public static final String TOPIC_DLQ = "mqdet.topic.dlq";
    public static final String MODEL_DIR = "mqdet.model.dir";
    public static final String MODEL_DEVICE = "mqdet.model.device";
    public static final String MODEL_PREDICTORS = "mqdet.model.predictors";
    public static final String BATCH_SIZE = "mqdet.batch.size";
    public static final String BATCH_MAX_WAIT_MS = "mqdet.batch.max-wait-ms";
    public static final String BATCH_PIPELINED = "mqdet.batch.pipelined";
    public static final String SCORE_THRESHOLD = "mqdet.detect.score-threshold";
    public static final String NMS_IOU = "mqdet.detect.nms-iou";
    public static final String MAX_DETECTIONS = "mqdet.detect.max-detections";
    public static final String MAX_IMAGE_PIXELS = "mqdet.image.max-pixels";
    public static final String MAX_IMAGE_BYTES = "mqdet.image.max-bytes";
    public static final String FETCH_ALLOWED_PREFIXES = "mqdet.image.fetch.allowed-prefixes";
    public static final String FETCH_TIMEOUT_MS = "mqdet.image.fetch.timeout-ms";
    public static final String UNKNOWN_QUERY_SET_WAIT_MS = "mqdet.query-set.unknown-wait-ms";
    public static final String MAX_CATEGORIES = "mqdet.query-set.max-categories";
    public static final String HTTP_PORT = "mqdet.http.port";

    /** Defaults of every key, the documentation of what can be set. */
    public static final Map<String, String> DEFAULTS = Map.ofEntries(
            Map.entry(TOPIC_IMAGES, Topics.IMAGES.defaultName()),
            Map.entry(TOPIC_EXEMPLAR_QUERIES, Topics.EXEMPLAR_QUERIES.defaultName()),
            Map.entry(TOPIC_EXEMPLAR_EMBEDDINGS, Topics.EXEMPLAR_EMBEDDINGS.defaultName()),
            Map.entry(TOPIC_DETECTIONS, Topics.DETECTIONS.defaultName()),
            Map.entry(TOPIC_DLQ, Topics.IMAGES_DLQ.defaultName()),
            Map.entry(MODEL_DIR, ""), // empty: the model package shipped in the jar
            Map.entry(MODEL_DEVICE, "auto"),
            Map.entry(MODEL_PREDICTORS, "2"), // CPU: two batches side by side, half the cores each; GPU: one batch's CPU work overlaps another's GPU work
            Map.entry(BATCH_SIZE, "8"),
            Map.entry(BATCH_MAX_WAIT_MS, "100"),
            Map.entry(BATCH_PIPELINED, "true"), // inference on a worker thread while the stream thread reads on
            Map.entry(SCORE_THRESHOLD, "0.3"),
            Map.entry(NMS_IOU, "0.5"),
            Map.entry(MAX_DETECTIONS, "100"),
            Map.entry(MAX_IMAGE_PIXELS, "40000000"),
            Map.entry(MAX_IMAGE_BYTES, Integer.toString(16 << 20)),
            Map.entry(FETCH_ALLOWED_PREFIXES, ""), // e.g. "https://images.example.com/,file:/data/images/"
            Map.entry(FETCH_TIMEOUT_MS, "10000"), // one HTTP fetch, connect to last byte
            Map.entry(UNKNOWN_QUERY_SET_WAIT_MS, "0"),
            Map.entry(MAX_CATEGORIES, "5000"),
            Map.entry(HTTP_PORT, "8080"),
            Map.entry(StreamsConfig.APPLICATION_ID_CONFIG, "mqdet-streams"),
            Map.entry(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2),
            Map.entry("processing.exception.handler.global.enabled", "true"),
            // A dead letter carries the original image bytes: room for the largest record the topics take.
            Map.entry("producer.max.request.size", Integer.toString(dev.mqdet.topics.Topic.MAX_MESSAGE_BYTES)),
            // Never act on an aborted registry write, also under at_least_once (exactly-once sets this itself).
            Map.entry("consumer.isolation.level", "read_committed"));

    private final Map<String, String> values;

    private StreamsAppConfig(Map<String, String> values) {
        this.values = Map.copyOf(values);
    }

    /** Defaults, then the file (if any), then the environment, then {@code overrides}. */
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
        environment.forEach((name, value) -> {
            String key = keyOf(name);
            if (key != null) {
                values.put(key, value);
            }
        });
        values.putAll(overrides);
        return new StreamsAppConfig(values);
    }

    public static StreamsAppConfig of(Map<String, String> overrides) {
        return load(null, Map.of(), overrides);
    }

    /** The configuration key an environment variable sets, or null when it is not one of ours. */
    static String keyOf(String variable) {
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
            return DEFAULTS.keySet().stream().filter(k -> k.replace('-', '_').replace('.', '_').equals("mqdet_" + rest))
                    .findFirst().orElse(null);
        }
        if (variable.startsWith("KAFKA_")) {
            return lower.substring("kafka_".length()).replace('_', '.');
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
        String value = get(key).trim();
        return value.isEmpty() ? List.of() : List.of(value.split("\\s*,\\s*"));
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
