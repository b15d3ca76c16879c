package dev.mqdet.registry.config;

import dev.mqdet.config.KeySuggestions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * Every setting of the registry service, read once at start: built-in defaults, then a properties file, then
 * environment variables ({@code MQDET_} + the key in upper case with {@code .} and {@code -} as {@code _}, e.g.
 * {@code registry.token} is {@code MQDET_REGISTRY_TOKEN}). Later sources win. Keys starting with {@code kafka.} are
 * passed, without the prefix, to every Kafka client (security settings, for instance); keys starting with
 * {@code schema.registry.} or {@code basic.auth.} go to the Schema Registry client.
 */
public final class RegistryConfig {

    /** The documented keys and their defaults; {@link #fromSources} reads environment variables for exactly these. */
    public static final Map<String, String> DEFAULTS;

    static {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("registry.host", "127.0.0.1");
        d.put("registry.port", "8088");
        d.put("bootstrap.servers", "localhost:9092");
        d.put("schema.registry.url", "http://localhost:8081");
        d.put("registry.token", "");
        d.put("registry.token.name", "registry-token");
        d.put("registry.auth.reads", "false");
        d.put("registry.read.token", "");
        d.put("registry.cors.origins", "");
        d.put("registry.topic", "exemplar-queries");
        d.put("registry.topic.create", "true");
        d.put("registry.topic.partitions", "1");
        d.put("registry.transactional.id", "mqdet-exemplar-registry");
        d.put("registry.detections.topic", "detections");
        d.put("registry.images.topic", "images");
        d.put("registry.live.enabled", "true");
        d.put("registry.live.events", "50");
        d.put("registry.live.image.bytes", String.valueOf(64L * 1024 * 1024));
        d.put("registry.model.json", "");
        d.put("registry.max.exemplars.per.category", "");
        d.put("registry.max.categories.per.query.set", "2000");
        d.put("registry.max.label.length", "200");
        d.put("registry.max.image.bytes", String.valueOf(4L * 1024 * 1024));
        d.put("registry.max.image.pixels", String.valueOf(4096L * 4096));
        d.put("registry.max.request.bytes", String.valueOf(32L * 1024 * 1024));
        d.put("registry.max.record.bytes", String.valueOf(8L * 1024 * 1024));
        DEFAULTS = Map.copyOf(d);
    }

    /**
     * The range of every numeric key and the switches: checked for every key when a configuration is made, so a bad
     * value stops the service at start whether or not the feature that reads it is on. Add a key here and in DEFAULTS.
     */
    private static final Map<String, long[]> RANGES = Map.ofEntries(
            Map.entry("registry.port", new long[] {0, 65_535}),
            Map.entry("registry.topic.partitions", new long[] {1, 1_000}),
            Map.entry("registry.live.events", new long[] {1, 10_000}),
            Map.entry("registry.live.image.bytes", new long[] {0, Long.MAX_VALUE}),
            Map.entry("registry.max.categories.per.query.set", new long[] {1, 100_000}),
            Map.entry("registry.max.label.length", new long[] {1, 10_000}),
            Map.entry("registry.max.image.bytes", new long[] {1, Integer.MAX_VALUE}),
            Map.entry("registry.max.image.pixels", new long[] {1, Long.MAX_VALUE}),
            Map.entry("registry.max.request.bytes", new long[] {1, Integer.MAX_VALUE}),
            Map.entry("registry.max.record.bytes", new long[] {1024, Integer.MAX_VALUE}));
    private static final List<String> SWITCHES = List.of("registry.auth.reads", "registry.topic.create", "registry.live.enabled");
    private static final List<String> REQUIRED = List.of("registry.host", "bootstrap.servers", "schema.registry.url",
            "registry.token.name", "registry.topic", "registry.transactional.id", "registry.detections.topic", "registry.images.topic");

    /** Minimum token length: a short shared secret is guessable whatever the comparison. */
    public static final int MIN_TOKEN_LENGTH = 16;

    private final Map<String, String> values;

    private RegistryConfig(Map<String, String> values) {
        this.values = Map.copyOf(values);
        validate();
    }

    /** Refuses unknown registry.* keys (a typo such as registry.auth.read would otherwise leave reads open) and bad values. */
    private void validate() {
        for (String key : new java.util.TreeSet<>(values.keySet())) {
            if (key.startsWith("registry.") && !DEFAULTS.containsKey(key)) {
                String near = KeySuggestions.closest(key, DEFAULTS.keySet());
                throw new InvalidSettingException(key, "unknown configuration key " + key + (near == null ? "" : "; did you mean " + near + "?"));
            }
        }
        RANGES.forEach((key, range) -> getLong(key, range[0], range[1]));
        maxExemplarsPerCategory();
        SWITCHES.forEach(this::getBoolean);
        for (String key : REQUIRED) {
            if (get(key).isBlank()) {
                throw new InvalidSettingException(key, key + " (environment " + envName(key) + ") must not be empty");
            }
        }
    }

    /** Defaults overridden by {@code overrides}: for tests and embedding. */
    public static RegistryConfig of(Map<String, String> overrides) {
        Map<String, String> v = new HashMap<>(DEFAULTS);
        v.putAll(overrides);
        return new RegistryConfig(v);
    }

    /** Defaults, then the properties file (if given), then environment variables. */
    public static RegistryConfig fromSources(Optional<Path> file, Map<String, String> env) {
        Map<String, String> v = new HashMap<>(DEFAULTS);
        if (file.isPresent()) {
            Properties props = new Properties();
            try (InputStream in = Files.newInputStream(file.get())) {
                props.load(in);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read configuration file " + file.get() + ": " + e.getMessage(), e);
            }
            props.stringPropertyNames().forEach(k -> v.put(k, props.getProperty(k).trim()));
        }
        for (String key : DEFAULTS.keySet()) {
            String fromEnv = env.get(envName(key));
            if (fromEnv != null) {
                v.put(key, fromEnv.trim());
            }
        }
        return new RegistryConfig(v);
    }

    /** The environment variable that sets {@code key}. */
    public static String envName(String key) {
        return "MQDET_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** A copy with {@code key} set, e.g. from a command-line flag. */
    public RegistryConfig with(String key, String value) {
        Map<String, String> v = new HashMap<>(values);
        v.put(key, value);
        return new RegistryConfig(v);
    }

    public String get(String key) {
        String v = values.get(key);
        if (v == null) {
            throw new InvalidSettingException(key, "unknown configuration key " + key);
        }
        return v;
    }

    public long getLong(String key, long min, long max) {
        String raw = get(key);
        long v;
        try {
            v = Long.parseLong(raw);
        } catch (NumberFormatException e) {
            throw new InvalidSettingException(key, key + " must be a whole number, not '" + raw + "'");
        }
        if (v < min || v > max) {
            throw new InvalidSettingException(key, key + " must be between " + min + " and " + max + ", not " + v);
        }
        return v;
    }

    public int getInt(String key, int min, int max) {
        return (int) getLong(key, min, max);
    }

    public boolean getBoolean(String key) {
        String raw = get(key).toLowerCase(Locale.ROOT);
        return switch (raw) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0", "" -> false;
            default -> throw new InvalidSettingException(key, key + " must be true or false, not '" + raw + "'");
        };
    }

    public List<String> getList(String key) {
        List<String> out = new ArrayList<>();
        for (String part : get(key).split(",")) {
            if (!part.isBlank()) {
                out.add(part.trim());
            }
        }
        return out;
    }

    /** Settings for every Kafka client: bootstrap servers plus each {@code kafka.*} key without its prefix. */
    public Map<String, Object> kafkaClientConfig() {
        Map<String, Object> out = new HashMap<>();
        out.put("bootstrap.servers", get("bootstrap.servers"));
        values.forEach((k, v) -> {
            if (k.startsWith("kafka.")) {
                out.put(k.substring("kafka.".length()), v);
            }
        });
        return out;
    }

    /** Settings for the Schema Registry client: its URL plus each {@code schema.registry.*} and {@code basic.auth.*} key. */
    public Map<String, Object> schemaRegistryConfig() {
        Map<String, Object> out = new HashMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith("schema.registry.") || k.startsWith("basic.auth.")) {
                out.put(k, v);
            }
        });
        return out;
    }

    /**
     * Exemplars per category: the model's {@code max_exemplars_per_category} (the detector refuses more, so the
     * registry must too), or a lower value set here. Above the model's is refused at start.
     */
    private int maxExemplarsPerCategory() {
        String key = "registry.max.exemplars.per.category";
        ModelExemplarLimit model = ModelExemplarLimit.read(get("registry.model.json"));
        if (get(key).isBlank()) {
            return model.max();
        }
        int configured = getInt(key, 1, 1_000);
        if (configured > model.max()) {
            throw new InvalidSettingException(key, key + " = " + configured + " is above the " + model.max()
                    + " exemplars per category that the model takes (" + model.source() + ", exemplars.max_exemplars_per_category);"
                    + " the detector would refuse such categories: leave it unset or set at most " + model.max());
        }
        return configured;
    }

    public Limits limits() {
        return new Limits(
                maxExemplarsPerCategory(),
                getInt("registry.max.categories.per.query.set", 1, 100_000),
                getInt("registry.max.label.length", 1, 10_000),
                getLong("registry.max.image.bytes", 1, Integer.MAX_VALUE),
                getLong("registry.max.image.pixels", 1, Long.MAX_VALUE),
                getLong("registry.max.request.bytes", 1, Integer.MAX_VALUE),
                getInt("registry.max.record.bytes", 1024, Integer.MAX_VALUE));
    }
}
