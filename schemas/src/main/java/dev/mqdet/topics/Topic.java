package dev.mqdet.topics;

import dev.mqdet.schemaregistry.SchemaRegistryClient;
import dev.mqdet.serde.AvroSerde;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.avro.specific.SpecificRecord;

/**
 * One topic of the pipeline: its default name, its key and value types, and the topic settings it needs.
 * Keys are strings; values are Avro records in the Confluent wire format.
 *
 * @param defaultName name used unless configuration overrides it
 * @param valueType   generated Avro class of the values
 * @param compacted   whether the topic is a compacted table (latest value per key) rather than an event log
 * @param keyFormat   how keys are built, for documentation and error messages
 */
public record Topic<V extends SpecificRecord>(String defaultName, Class<V> valueType, boolean compacted, String keyFormat) {

    public Serde<String> keySerde() {
        return Serdes.String();
    }

    /** A configured value serde sharing {@code registry}. */
    public Serde<V> valueSerde(SchemaRegistryClient registry) {
        AvroSerde<V> serde = AvroSerde.specific(valueType, registry);
        serde.configure(Map.of(), false);
        return serde;
    }

    /**
     * Largest record the pipeline's topics take: images travel inline, exemplar queries carry their exemplar
     * images, and dead letters keep the original bytes, so Kafka's 1 MB default is too small.
     */
    public static final int MAX_MESSAGE_BYTES = 17 << 20;

    /** Topic-level settings to create it with (compaction for tables; room for inline images). */
    public Map<String, String> topicConfig() {
        String maxBytes = Integer.toString(MAX_MESSAGE_BYTES);
        return compacted
                ? Map.of("cleanup.policy", "compact", "min.compaction.lag.ms", "0", "segment.ms", "3600000", "max.message.bytes", maxBytes)
                : Map.of("cleanup.policy", "delete", "max.message.bytes", maxBytes);
    }
}
