package dev.mqdet.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.floats;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;
import static org.quicktheories.generators.SourceDSL.strings;

import dev.mqdet.events.BoundingBox;
import dev.mqdet.events.Exemplar;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.InlineImage;
import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.quicktheories.core.Gen;

/**
 * Property: any exemplar query (unicode labels or none, zero to twenty exemplars, any box floats, image bytes of
 * any content) survives serialisation and deserialisation through the real registry unchanged.
 */
@ExtendWith(LocalStackExtension.class)
class AvroRoundTripPropertyTest {

    @Test
    void randomExemplarQueriesRoundTrip(LocalStack stack) {
        AvroSerde<ExemplarQuery> serde = AvroSerde.specific(ExemplarQuery.class,
                new RestSchemaRegistryClient(Map.of("schema.registry.url", stack.schemaRegistryUrl())));
        serde.configure(Map.of(), false);
        qt().withFixedSeed(20_261_127L).withExamples(300).forAll(queries()).checkAssert(query -> {
            byte[] bytes = serde.serializer().serialize("exemplar-queries-prop", query);
            assertThat(serde.deserializer().deserialize("exemplar-queries-prop", bytes)).isEqualTo(query);
        });
    }

    private static Gen<ExemplarQuery> queries() {
        Gen<String> ids = strings().betweenCodePoints('-', 'z').ofLengthBetween(1, 40);
        // Any Unicode scalar value: Avro strings are UTF-8, which cannot carry lone surrogates.
        Gen<String> labelText = strings().betweenCodePoints(0x20, 0xD7FF).ofLengthBetween(0, 80)
                .mix(strings().betweenCodePoints(0x1F300, 0x1FAFF).ofLengthBetween(1, 10));
        Gen<String> labels = labelText.toOptionals(80).map(optional -> optional.orElse(null));
        Gen<Float> coords = floats().between(-1e6f, 1e6f);
        Gen<BoundingBox> boxes = coords.zip(coords, coords, coords, BoundingBox::new);
        Gen<byte[]> imageBytes = lists().of(integers().between(-128, 127)).ofSizeBetween(0, 2_000).map(values -> {
            byte[] bytes = new byte[values.size()];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = values.get(i).byteValue();
            }
            return bytes;
        });
        Gen<Exemplar> exemplars = ids.zip(imageBytes, boxes,
                (id, data, box) -> new Exemplar(id, new InlineImage(ByteBuffer.wrap(data), "image/jpeg"), box));
        Gen<List<Exemplar>> exemplarLists = lists().of(exemplars).ofSizeBetween(0, 20);
        Gen<Long> revisions = longs().between(0, Long.MAX_VALUE);
        return ids.zip(ids, labels, exemplarLists, (qs, cat, label, list) -> ExemplarQuery.newBuilder()
                        .setQuerySetId(qs).setCategoryId(cat).setLabel(label).setExemplars(list)
                        .setRevision(0L).setUpdatedAtMs(Instant.ofEpochMilli(0L)).build())
                .zip(revisions, longs().between(0, 4_102_444_800_000L), (query, revision, at) -> {
                    query.setRevision(revision);
                    query.setUpdatedAtMs(Instant.ofEpochMilli(at));
                    return query;
                });
    }
}
