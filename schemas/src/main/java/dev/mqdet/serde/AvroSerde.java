package dev.mqdet.serde;

import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.schemaregistry.SchemaRegistryClient;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A Kafka {@link Serde} for Avro in the Confluent wire format: {@link AvroSerializer} plus {@link AvroDeserializer}.
 *
 * <pre>{@code
 * Serde<ImageEvent> images = AvroSerde.specific(ImageEvent.class, registryClient);
 * images.configure(Map.of(), false);
 * }</pre>
 */
public final class AvroSerde<T> implements Serde<T> {

    private final AvroSerializer<T> serializer;
    private final AvroDeserializer<T> deserializer;

    private AvroSerde(SchemaRegistryClient registry, Class<? extends SpecificRecord> readerClass) {
        this.serializer = new AvroSerializer<>(registry);
        this.deserializer = new AvroDeserializer<>(registry, readerClass);
    }

    /** Generated records of {@code type}, sharing {@code registry} (which may be null: then {@link #configure} builds one). */
    public static <T extends SpecificRecord> AvroSerde<T> specific(Class<T> type, SchemaRegistryClient registry) {
        return new AvroSerde<>(registry, type);
    }

    /** Generic records, read with the writer's own schema. */
    public static AvroSerde<GenericRecord> generic(SchemaRegistryClient registry) {
        return new AvroSerde<>(registry, null);
    }

    /** A configured serde of generated records with a client of its own, from Confluent-style settings. */
    public static <T extends SpecificRecord> AvroSerde<T> specific(Class<T> type, Map<String, ?> configs, boolean isKey) {
        AvroSerde<T> serde = new AvroSerde<>(new RestSchemaRegistryClient(new AvroSerdeConfig(configs)), type);
        serde.configure(configs, isKey);
        return serde;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        serializer.configure(configs, isKey);
        deserializer.configure(configs, isKey);
    }

    @Override
    public Serializer<T> serializer() {
        return serializer;
    }

    @Override
    public Deserializer<T> deserializer() {
        return deserializer;
    }
}
