package dev.mqdet.serde;

import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.schemaregistry.SchemaRegistryClient;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaPairCompatibility;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads Confluent-wire-format Avro records. The writer's schema comes from the registry by the id in the
 * payload; the record is resolved to the reader's schema (a generated class's, or the writer's own for
 * generic records) by Avro's schema-resolution rules.
 *
 * <p>Every failure is a typed {@link SerdeException}, never a null or a half-read record: {@link
 * MalformedPayloadException} (empty, truncated, bad magic byte as {@link UnknownMagicByteException}, bytes
 * that do not decode, or bytes left over), {@link dev.mqdet.schemaregistry.UnknownSchemaIdException}, {@link
 * IncompatibleSchemaException}, and {@link dev.mqdet.schemaregistry.SchemaRegistryUnavailableException}.
 */
public class AvroDeserializer<T> implements Deserializer<T> {

    static {
        // Avro allocates a string, bytes or array of the length a payload claims before reading it; without
        // limits, five random bytes can ask for 2 GB. Bound them unless the operator chose other limits.
        setDefaultLimit("org.apache.avro.limits.bytes.maxLength", 64 << 20);
        setDefaultLimit("org.apache.avro.limits.string.maxLength", 16 << 20);
        setDefaultLimit("org.apache.avro.limits.collectionItems.maxLength", 16 << 20);
        try { // Avro reads the limits once; re-read them in case another library loaded Avro's decoder first.
            var reset = org.apache.avro.SystemLimitException.class.getDeclaredMethod("resetLimits");
            reset.setAccessible(true);
            reset.invoke(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(AvroDeserializer.class).warn("could not apply Avro decode limits: {}", e.toString());
        }
    }

    private SchemaRegistryClient registry;
    private final Class<? extends SpecificRecord> readerClass;
    private final Schema genericReaderSchema;
    private boolean specificByName;
    private final Map<Integer, DatumReader<Object>> readers = new ConcurrentHashMap<>();

    /** For Kafka's reflective construction: generic records unless {@code specific.avro.reader=true}. */
    public AvroDeserializer() {
        this(null, null);
    }

    /**
     * @param registry    a shared client, or null to build one from {@link #configure}
     * @param readerClass the generated class to read into, or null for generic records (or
     *                    {@code specific.avro.reader=true} to find the class by the writer schema's name)
     */
    public AvroDeserializer(SchemaRegistryClient registry, Class<? extends SpecificRecord> readerClass) {
        this(registry, readerClass, null);
    }

    private AvroDeserializer(SchemaRegistryClient registry, Class<? extends SpecificRecord> readerClass, Schema genericReaderSchema) {
        this.registry = registry;
        this.readerClass = readerClass;
        this.genericReaderSchema = genericReaderSchema;
    }

    /** Generic records resolved to {@code readerSchema}, e.g. an older or newer version than the writer's. */
    public static AvroDeserializer<org.apache.avro.generic.GenericRecord> generic(SchemaRegistryClient registry, Schema readerSchema) {
        return new AvroDeserializer<>(registry, null, readerSchema);
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        AvroSerdeConfig config = new AvroSerdeConfig(AvroSerializer.withUrlPlaceholder(configs, registry));
        this.specificByName = config.getBoolean(AvroSerdeConfig.SPECIFIC_AVRO_READER);
        if (registry == null) {
            registry = new RestSchemaRegistryClient(config);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        if (registry == null) {
            throw new IllegalStateException("AvroDeserializer is not configured: call configure() or pass a SchemaRegistryClient");
        }
        WireFormat.Frame frame = WireFormat.parse(data);
        DatumReader<Object> reader = readers.computeIfAbsent(frame.schemaId(), this::newReader);
        BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, frame.bodyOffset(), frame.bodyLength(), null);
        Object record;
        try {
            record = reader.read(null, decoder);
        } catch (Exception | StackOverflowError e) {
            throw new MalformedPayloadException("payload of " + data.length + " bytes on topic " + topic
                    + " does not decode with its writer schema (id " + frame.schemaId() + "): " + e, e);
        }
        try {
            if (!decoder.isEnd()) {
                throw new MalformedPayloadException("payload on topic " + topic + " has bytes left over after the record"
                        + " (writer schema id " + frame.schemaId() + "): it is corrupt or was written with another schema");
            }
        } catch (java.io.IOException e) {
            throw new MalformedPayloadException("payload on topic " + topic + " could not be read to its end: " + e, e);
        }
        return (T) record;
    }

    private DatumReader<Object> newReader(int schemaId) {
        Schema writer = registry.schemaById(schemaId);
        Schema reader = readerSchema(writer);
        SchemaPairCompatibility compatibility = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
        if (compatibility.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            throw new IncompatibleSchemaException("data written with schema id " + schemaId + " (" + writer.getFullName()
                    + ") cannot be read as " + reader.getFullName() + ": " + compatibility.getResult().getIncompatibilities());
        }
        if (readerClass == null && !specificByName) {
            return new GenericDatumReader<>(writer, reader);
        }
        return new SpecificDatumReader<>(writer, reader, SpecificData.getForSchema(reader));
    }

    private Schema readerSchema(Schema writer) {
        if (genericReaderSchema != null) {
            return genericReaderSchema;
        }
        if (readerClass != null) {
            return SpecificData.get().getSchema(readerClass);
        }
        if (specificByName) {
            Class<?> type = SpecificData.get().getClass(writer);
            if (type == null || !SpecificRecord.class.isAssignableFrom(type)) {
                throw new SerdeException("specific.avro.reader is true but no generated class named "
                        + writer.getFullName() + " is on the classpath");
            }
            return SpecificData.get().getSchema(type);
        }
        return writer;
    }

    private static void setDefaultLimit(String property, int value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, Integer.toString(value));
        }
    }
}
