package dev.mqdet.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.schemaregistry.SchemaRegistryClient;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The BACKWARD rule of schemas/README.md, enforced by the real registry and honoured by our deserializer. */
@ExtendWith(LocalStackExtension.class)
class SchemaEvolutionTest {

    private static final Schema V1 = SchemaBuilder.record("Reading").namespace("dev.mqdet.test").fields()
            .requiredString("sensor").requiredDouble("value").endRecord();
    /** v1 plus an optional field with a default: a compatible change. */
    private static final Schema V2 = SchemaBuilder.record("Reading").namespace("dev.mqdet.test").fields()
            .requiredString("sensor").requiredDouble("value").optionalString("unit").endRecord();
    /** v1 plus a required field without default: new readers cannot read old data. */
    private static final Schema V3_INCOMPATIBLE = SchemaBuilder.record("Reading").namespace("dev.mqdet.test").fields()
            .requiredString("sensor").requiredDouble("value").requiredLong("calibratedAt").endRecord();

    private SchemaRegistryClient registry;

    @BeforeEach
    void setUp(LocalStack stack) {
        registry = new RestSchemaRegistryClient(Map.of("schema.registry.url", stack.schemaRegistryUrl()));
    }

    @Test
    void oldReaderReadsNewDataAndNewReaderReadsOldData() {
        String topic = "readings-evolution";
        AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(registry);
        serializer.configure(Map.of(), false);
        GenericRecord old = new GenericData.Record(V1);
        old.put("sensor", "s1");
        old.put("value", 1.5);
        byte[] oldBytes = serializer.serialize(topic, old);
        GenericRecord newer = new GenericData.Record(V2);
        newer.put("sensor", "s2");
        newer.put("value", 2.5);
        newer.put("unit", "lux");
        byte[] newBytes = serializer.serialize(topic, newer);

        GenericRecord newReadByOld = AvroDeserializer.generic(registry, V1).deserialize(topic, newBytes);
        assertThat(newReadByOld.getSchema()).isEqualTo(V1);
        assertThat(newReadByOld.get("sensor").toString()).isEqualTo("s2");
        assertThat(newReadByOld.get("value")).isEqualTo(2.5);

        GenericRecord oldReadByNew = AvroDeserializer.generic(registry, V2).deserialize(topic, oldBytes);
        assertThat(oldReadByNew.get("sensor").toString()).isEqualTo("s1");
        assertThat(oldReadByNew.get("unit")).isNull();
    }

    @Test
    void registryRefusesAnIncompatibleChange() {
        String subject = "readings-incompatible-value";
        registry.register(subject, V1);
        assertThat(registry.isCompatible(subject, V2)).isTrue();
        assertThat(registry.isCompatible(subject, V3_INCOMPATIBLE)).isFalse();
        assertThatThrownBy(() -> registry.register(subject, V3_INCOMPATIBLE))
                .isInstanceOf(IncompatibleSchemaException.class)
                .hasMessageContaining("incompatible")
                .hasMessageContaining(subject);
    }

    @Test
    void readerThatNeedsAFieldTheWriterLacksGetsATypedError() {
        String topic = "readings-missing-field";
        AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(registry);
        serializer.configure(Map.of(), false);
        GenericRecord old = new GenericData.Record(V1);
        old.put("sensor", "s1");
        old.put("value", 1.0);
        byte[] bytes = serializer.serialize(topic, old);
        assertThatThrownBy(() -> AvroDeserializer.generic(registry, V3_INCOMPATIBLE).deserialize(topic, bytes))
                .isInstanceOf(IncompatibleSchemaException.class)
                .hasMessageContaining("calibratedAt");
    }

    @Test
    void sameSchemaSpelledDifferentlyGetsTheSameId() {
        String subject = "readings-canonical-value";
        int id = registry.register(subject, V1);
        Schema respelled = new Schema.Parser().parse(
                "{ \"namespace\" : \"dev.mqdet.test\", \"type\":\"record\", \"name\":\"Reading\", \"fields\":["
                        + "{\"type\":\"string\",\"name\":\"sensor\"}, {\"name\":\"value\",\"type\":\"double\"}]}");
        RestSchemaRegistryClient fresh = new RestSchemaRegistryClient(Map.of("schema.registry.url", registry.url()));
        assertThat(fresh.lookup(subject, respelled)).isEqualTo(id);
    }
}
