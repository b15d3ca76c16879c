package dev.mqdet.serde;

import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.schemaregistry.SchemaRegistryClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericContainer;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes Avro records (generated {@link SpecificRecord}s or {@link org.apache.avro.generic.GenericRecord}s) in
 * the Confluent wire format, registering or looking up the writer's schema in the Schema Registry.
 * A null record is written as null (a tombstone).
 */
public class AvroSerializer<T> implements Serializer<T> {

    private SchemaRegistryClient registry;
    private boolean autoRegister = true;
    private SubjectNameStrategy subjects = SubjectNameStrategy.TOPIC;
    private boolean isKey;
    private final Map<Schema, DatumWriter<Object>> writers = new ConcurrentHashMap<>();

    /** For Kafka's reflective construction; {@link #configure} must follow. */
    public AvroSerializer() {}

    /** With a shared client; {@link #configure} may still follow to set the subject strategy and auto-registration. */
    public AvroSerializer(SchemaRegistryClient registry) {
        this.registry = registry;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        AvroSerdeConfig config = new AvroSerdeConfig(withUrlPlaceholder(configs, registry));
        this.isKey = isKey;
        this.autoRegister = config.getBoolean(AvroSerdeConfig.AUTO_REGISTER_SCHEMAS);
        this.subjects = config.subjectNameStrategy(isKey);
        if (registry == null) {
            registry = new RestSchemaRegistryClient(config);
        }
    }

    @Override
    public byte[] serialize(String topic, T data) {
        if (data == null) {
            return null;
        }
        if (registry == null) {
            throw new IllegalStateException("AvroSerializer is not configured: call configure() or pass a SchemaRegistryClient");
        }
        if (!(data instanceof GenericContainer container)) {
            throw new SerdeException("cannot serialise " + data.getClass().getName()
                    + " for topic " + topic + ": expected an Avro GenericRecord or SpecificRecord");
        }
        Schema schema = container.getSchema();
        String subject = subjects.subject(topic, isKey, schema);
        int id = autoRegister ? registry.register(subject, schema) : registry.lookup(subject, schema);
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        out.writeBytes(WireFormat.header(id));
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
        try {
            writer(schema, data).write(data, encoder);
            encoder.flush();
        } catch (IOException | RuntimeException e) {
            throw new SerdeException("a " + schema.getFullName() + " for topic " + topic
                    + " does not match its own schema and cannot be written: " + e, e);
        }
        return out.toByteArray();
    }

    private DatumWriter<Object> writer(Schema schema, Object data) {
        return writers.computeIfAbsent(schema, s -> data instanceof SpecificRecord
                ? new SpecificDatumWriter<>(s, SpecificData.getForSchema(s))
                : new GenericDatumWriter<>(s));
    }

    /** A serde built around a shared client needs no URL in its configuration. */
    static Map<String, ?> withUrlPlaceholder(Map<String, ?> configs, SchemaRegistryClient registry) {
        if (registry == null || configs.containsKey(AvroSerdeConfig.URL)) {
            return configs;
        }
        Map<String, Object> copy = new java.util.HashMap<>(configs);
        copy.put(AvroSerdeConfig.URL, registry.url());
        return copy;
    }
}
