package dev.mqdet.serde;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.events.ImageEvent;
import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Interop with Apicurio's own Kafka serdes, set to the Confluent byte format: each side reads what the other wrote. */
@ExtendWith(LocalStackExtension.class)
class ApicurioSerdeInteropTest {

    private Map<String, Object> apicurioConfig;
    private RestSchemaRegistryClient ours;

    @BeforeEach
    void setUp(LocalStack stack) {
        apicurioConfig = new HashMap<>();
        apicurioConfig.put("apicurio.registry.url", stack.registry().nativeApiUrl());
        apicurioConfig.put("apicurio.registry.auto-register", "true");
        apicurioConfig.put("apicurio.registry.headers.enabled", "false");
        apicurioConfig.put("apicurio.registry.id-handler", "io.apicurio.registry.serde.Default4ByteIdHandler");
        apicurioConfig.put("apicurio.registry.use-id", "contentId");
        ours = new RestSchemaRegistryClient(Map.of("schema.registry.url", stack.schemaRegistryUrl()));
    }

    @Test
    void weReadWhatApicurioWrote() {
        ImageEvent event = SampleEvents.inline("apicurio-1", new byte[] {1, 2, 3});
        byte[] bytes;
        try (AvroKafkaSerializer<ImageEvent> theirs = new AvroKafkaSerializer<>()) {
            theirs.configure(apicurioConfig, false);
            bytes = theirs.serialize("images-from-apicurio", event);
        }
        assertThat(bytes[0]).isEqualTo(WireFormat.MAGIC_BYTE);
        ImageEvent read = AvroSerde.specific(ImageEvent.class, ours).deserializer().deserialize("images-from-apicurio", bytes);
        assertThat(read).isEqualTo(event);
    }

    @Test
    void apicurioReadsWhatWeWrote() {
        ImageEvent event = SampleEvents.byReference("s3://bucket/cam/42.jpg");
        AvroSerializer<ImageEvent> serializer = new AvroSerializer<>(ours);
        serializer.configure(Map.of(), false);
        byte[] bytes = serializer.serialize("images-to-apicurio", event);
        try (AvroKafkaDeserializer<GenericRecord> theirs = new AvroKafkaDeserializer<>()) {
            theirs.configure(apicurioConfig, false);
            GenericRecord read = theirs.deserialize("images-to-apicurio", bytes);
            assertThat(read.get("eventId").toString()).isEqualTo(event.getEventId());
            assertThat(((GenericRecord) read.get("image")).get("uri").toString()).isEqualTo("s3://bucket/cam/42.jpg");
        }
    }
}
