package dev.mqdet.streams.detect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.events.ImageEvent;
import dev.mqdet.streams.DeadLetters.Origin;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The batch buffer's store holds the record's own value array (an event's bytes are on the heap once) and restores in arrival order. */
class EventBufferStoreTest {

    private KeyValueStore<Bytes, byte[]> store;

    @BeforeEach
    void store() {
        // The store as the topology builds it, minus logging and caching, which MockProcessorContext cannot host.
        store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("buffer"), Serdes.Bytes(), Serdes.ByteArray())
                .withLoggingDisabled().build();
        store.init(new MockProcessorContext<>().getStateStoreContext(), store);
    }

    @Test
    void theStoreHoldsTheRecordsValueArrayItselfNotACopy() {
        EventBuffer buffer = new EventBuffer(store, new BufferBudget(10, 10_000_000));
        byte[] value = new byte[100_000];
        Pending pending = buffer.add(new Origin("images", 3, 42), 1_000, 2_000, "k".getBytes(), value, new ImageEvent());

        assertThat(store.get(pending.storeKey())).isSameAs(value);
        assertThat(pending.buffered().value()).isSameAs(value);
        buffer.answered(pending);
        assertThat(store.get(pending.storeKey())).isNull();
    }

    @Test
    void aRestartRestoresEveryEventWithItsOriginAndTimesInArrivalOrder() {
        EventBuffer before = new EventBuffer(store, new BufferBudget(1_000, 10_000_000));
        for (int i = 0; i < 300; i++) { // past 255 and 256: byte order of the keys must stay arrival order
            before.add(new Origin("images", i % 4, 100 + i), 10_000 + i, 20_000 + i, i % 7 == 0 ? null : ("key-" + i).getBytes(), new byte[] {(byte) i}, new ImageEvent());
        }
        List<BufferedImageEvent> restored = new ArrayList<>();
        int count = new EventBuffer(store, new BufferBudget(1_000, 10_000_000)).restore(event -> {
            restored.add(event);
            return new ImageEvent();
        });

        assertThat(count).isEqualTo(300);
        for (int i = 0; i < 300; i++) {
            BufferedImageEvent event = restored.get(i);
            assertThat(event.origin()).isEqualTo(new Origin("images", i % 4, 100 + i));
            assertThat(event.timestampMs()).isEqualTo(10_000 + i);
            assertThat(event.bufferedAtMs()).isEqualTo(20_000 + i);
            assertThat(event.key()).isEqualTo(i % 7 == 0 ? null : ("key-" + i).getBytes());
            assertThat(event.value()).containsExactly((byte) i);
        }
    }

    @Test
    void entriesLeftByTheFormerLayoutAreRestoredAndRemovedWhenAnswered() throws IOException {
        // Format 1: the sequence as the key, origin, times, key and value serialized together in the value.
        ByteArrayOutputStream legacy = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(legacy);
        out.writeByte(1);
        out.writeUTF("images");
        out.writeInt(1);
        out.writeLong(7);
        out.writeLong(1_000);
        out.writeLong(1_500);
        out.writeInt(2);
        out.write(new byte[] {'k', '1'});
        out.writeInt(3);
        out.write(new byte[] {5, 6, 7});
        Bytes legacyKey = Bytes.wrap(ByteBuffer.allocate(Long.BYTES).putLong(41).array());
        store.put(legacyKey, legacy.toByteArray());

        EventBuffer buffer = new EventBuffer(store, new BufferBudget(10, 10_000));
        List<BufferedImageEvent> restored = new ArrayList<>();
        buffer.restore(event -> {
            restored.add(event);
            return new ImageEvent();
        });
        assertThat(restored).singleElement().satisfies(event -> {
            assertThat(event.origin()).isEqualTo(new Origin("images", 1, 7));
            assertThat(event.key()).containsExactly('k', '1');
            assertThat(event.value()).containsExactly(5, 6, 7);
        });

        Pending next = buffer.add(new Origin("images", 1, 8), 2_000, 2_500, null, new byte[] {1}, new ImageEvent());
        assertThat(next.sequence()).as("new sequences continue after the restored ones").isEqualTo(42);
    }
}
