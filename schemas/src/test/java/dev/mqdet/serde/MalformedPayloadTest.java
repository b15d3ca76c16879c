package dev.mqdet.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mqdet.events.ImageEvent;
import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.schemaregistry.SchemaNotRegisteredException;
import dev.mqdet.schemaregistry.SchemaRegistryClient;
import dev.mqdet.schemaregistry.SchemaRegistryUnavailableException;
import dev.mqdet.schemaregistry.UnknownSchemaIdException;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.apache.avro.SystemLimitException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every kind of bad payload ends in its documented exception, never a null or a half-read record. */
@ExtendWith(LocalStackExtension.class)
class MalformedPayloadTest {

    private static final String TOPIC = "images-malformed";
    private AvroSerde<ImageEvent> serde;
    private byte[] valid;

    @BeforeEach
    void setUp(LocalStack stack) {
        SchemaRegistryClient registry = new RestSchemaRegistryClient(Map.of("schema.registry.url", stack.schemaRegistryUrl()));
        serde = AvroSerde.specific(ImageEvent.class, registry);
        serde.configure(Map.of(), false);
        valid = serde.serializer().serialize(TOPIC, SampleEvents.inline("e-bad", new byte[] {7, 7, 7}));
    }

    @Test
    void emptyPayloadIsMalformed() {
        assertThatThrownBy(() -> deserialize(new byte[0]))
                .isExactlyInstanceOf(MalformedPayloadException.class)
                .hasMessageContaining("empty payload");
    }

    @Test
    void wrongMagicByteIsReported() {
        byte[] payload = valid.clone();
        payload[0] = 0x7b; // what a JSON producer would send: '{'
        assertThatThrownBy(() -> deserialize(payload))
                .isInstanceOf(UnknownMagicByteException.class)
                .hasMessageContaining("unknown magic byte 0x7b");
    }

    @Test
    void truncatedHeaderIsMalformed() {
        assertThatThrownBy(() -> deserialize(Arrays.copyOf(valid, 3)))
                .isExactlyInstanceOf(MalformedPayloadException.class)
                .hasMessageContaining("truncated payload: 3 bytes");
    }

    @Test
    void truncatedBodyIsMalformed() {
        assertThatThrownBy(() -> deserialize(Arrays.copyOf(valid, valid.length - 4)))
                .isExactlyInstanceOf(MalformedPayloadException.class)
                .hasMessageContaining("does not decode");
    }

    @Test
    void trailingBytesAreMalformed() {
        assertThatThrownBy(() -> deserialize(Arrays.copyOf(valid, valid.length + 2)))
                .isExactlyInstanceOf(MalformedPayloadException.class)
                .hasMessageContaining("bytes left over");
    }

    @Test
    void unknownSchemaIdIsReported() {
        byte[] payload = valid.clone();
        ByteBuffer.wrap(payload).putInt(1, 987_654_321);
        assertThatThrownBy(() -> deserialize(payload))
                .isInstanceOf(UnknownSchemaIdException.class)
                .hasMessageContaining("schema id 987654321 is not known");
    }

    @Test
    void hugeClaimedLengthIsRefusedWithoutAllocating() {
        // Header of a valid id, then a varint claiming a 1 GB string for eventId.
        byte[] payload = Arrays.copyOf(valid, 5 + 5);
        byte[] varint = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x08}; // zig-zag 2^30 = 1 GiB / 2
        System.arraycopy(varint, 0, payload, 5, varint.length);
        assertThatThrownBy(() -> deserialize(payload)).isExactlyInstanceOf(MalformedPayloadException.class);
        assertThatThrownBy(() -> SystemLimitException.checkMaxStringLength(1L << 30))
                .as("the deserializer bounds Avro's allocation limits").isInstanceOf(SystemLimitException.class);
    }

    @Test
    void randomBytesNeverComeBackAsNullOrUntypedErrors() {
        Random random = new Random(42);
        int schemaId = ByteBuffer.wrap(valid).getInt(1);
        for (int i = 0; i < 2_000; i++) {
            byte[] payload = new byte[random.nextInt(64)];
            random.nextBytes(payload);
            if (i % 2 == 0 && payload.length >= 5) { // half of them with a valid header, to reach the Avro decoder
                payload[0] = 0;
                ByteBuffer.wrap(payload).putInt(1, schemaId);
            }
            try {
                assertThat(deserialize(payload)).as("decoded record of random payload %d", i).isNotNull();
            } catch (SerdeException expected) {
                assertThat(expected.getMessage()).isNotBlank();
            }
        }
    }

    @Test
    void unreachableRegistryFailsAfterRetriesNamingUrlAndSubject() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        String url = "http://127.0.0.1:" + closedPort;
        AvroSerializer<ImageEvent> serializer = new AvroSerializer<>();
        serializer.configure(Map.of("schema.registry.url", url, "schema.registry.retries", "2",
                "schema.registry.retry.backoff.ms", "10"), false);
        assertThatThrownBy(() -> serializer.serialize("images-x", SampleEvents.inline("e-3", new byte[] {1})))
                .isInstanceOf(SchemaRegistryUnavailableException.class)
                .hasMessageContaining(url)
                .hasMessageContaining("subject 'images-x-value'")
                .hasMessageContaining("after 3 attempts");
    }

    @Test
    void withoutAutoRegisterAnUnregisteredSchemaIsRefused(LocalStack stack) {
        AvroSerializer<ImageEvent> serializer = new AvroSerializer<>();
        serializer.configure(Map.of("schema.registry.url", stack.schemaRegistryUrl(), "auto.register.schemas", "false"), false);
        assertThatThrownBy(() -> serializer.serialize("never-registered", SampleEvents.inline("e-4", new byte[] {1})))
                .isInstanceOf(SchemaNotRegisteredException.class)
                .hasMessageContaining("never-registered-value");
    }

    @Test
    void withoutAutoRegisterARegisteredSchemaIsUsed(LocalStack stack) {
        AvroSerializer<ImageEvent> serializer = new AvroSerializer<>();
        serializer.configure(Map.of("schema.registry.url", stack.schemaRegistryUrl(), "auto.register.schemas", "false"), false);
        byte[] bytes = serializer.serialize(TOPIC, SampleEvents.inline("e-5", new byte[] {1}));
        assertThat(ByteBuffer.wrap(bytes).getInt(1)).isEqualTo(ByteBuffer.wrap(valid).getInt(1));
    }

    private ImageEvent deserialize(byte[] payload) {
        return serde.deserializer().deserialize(TOPIC, payload);
    }
}
