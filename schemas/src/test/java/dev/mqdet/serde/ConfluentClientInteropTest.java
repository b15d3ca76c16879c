package dev.mqdet.serde;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.flink.avro.registry.confluent.shaded.io.confluent.kafka.schemaregistry.ParsedSchema;
import org.apache.flink.avro.registry.confluent.shaded.io.confluent.kafka.schemaregistry.avro.AvroSchema;
import org.apache.flink.avro.registry.confluent.shaded.io.confluent.kafka.schemaregistry.client.CachedSchemaRegistryClient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Interop with Confluent's own registry client (7.5.3, the copy relocated inside Flink's
 * flink-sql-avro-confluent-registry): it sees the ids our serializer registered, and we read ids it registered.
 */
@ExtendWith(LocalStackExtension.class)
class ConfluentClientInteropTest {

    private CachedSchemaRegistryClient confluent;
    private RestSchemaRegistryClient ours;

    @BeforeEach
    void setUp(LocalStack stack) {
        confluent = new CachedSchemaRegistryClient(stack.schemaRegistryUrl(), 100);
        ours = new RestSchemaRegistryClient(Map.of("schema.registry.url", stack.schemaRegistryUrl()));
    }

    @Test
    void confluentClientResolvesWhatOurSerializerWrote() throws Exception {
        AvroSerializer<ImageEvent> serializer = new AvroSerializer<>(ours);
        serializer.configure(Map.of(), false);
        ImageEvent event = SampleEvents.inline("interop-1", new byte[] {9, 8, 7});
        byte[] bytes = serializer.serialize("images-confluent", event);

        int id = ByteBuffer.wrap(bytes, 1, 4).getInt();
        ParsedSchema theirs = confluent.getSchemaById(id);
        Schema writer = new Schema.Parser().parse(theirs.canonicalString());
        assertThat(writer).isEqualTo(ImageEvent.getClassSchema());
        assertThat(confluent.getId("images-confluent-value", new AvroSchema(ImageEvent.getClassSchema().toString())))
                .isEqualTo(id);

        GenericRecord decoded = new GenericDatumReader<GenericRecord>(writer)
                .read(null, DecoderFactory.get().binaryDecoder(bytes, 5, bytes.length - 5, null));
        assertThat(decoded.get("eventId").toString()).isEqualTo("interop-1");
        assertThat(decoded.get("querySetId").toString()).isEqualTo("wildlife");
    }

    @Test
    void weReadRecordsFramedWithAnIdConfluentRegistered() throws Exception {
        Schema schema = DetectionEvent.getClassSchema();
        int id = confluent.register("detections-confluent-value", new AvroSchema(schema.toString()));
        assertThat(ours.schemaById(id)).isEqualTo(schema);
        assertThat(ours.lookup("detections-confluent-value", schema)).isEqualTo(id);

        GenericRecord record = new GenericData.Record(schema);
        record.put("eventId", "e-42");
        record.put("source", "cam");
        record.put("querySetId", "qs");
        record.put("querySetVersion", 3L);
        record.put("modelId", "m1");
        record.put("imageWidth", 320);
        record.put("imageHeight", 240);
        record.put("detections", java.util.List.of());
        GenericRecord timings = new GenericData.Record(schema.getField("timings").schema());
        timings.put("queueMs", 5L);
        timings.put("inferenceMs", 12L);
        timings.put("batchSize", 8);
        timings.put("batchWaitMs", 2L);
        timings.put("predictorWaitMs", 1L);
        record.put("timings", timings);
        record.put("attributes", Map.of());
        record.put("detectedAtMs", 1_764_000_000_000L);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(id).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
        encoder.flush();

        DetectionEvent read = AvroSerde.specific(DetectionEvent.class, ours).deserializer()
                .deserialize("detections-confluent", out.toByteArray());
        assertThat(read.getEventId()).isEqualTo("e-42");
        assertThat(read.getTimings().getBatchSize()).isEqualTo(8);
        assertThat(read.getDetectedAtMs().toEpochMilli()).isEqualTo(1_764_000_000_000L);
    }
}
