package dev.mqdet.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.events.DeadLetter;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ExemplarEmbedding;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.ImageEvent;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/** Every record and field of every topic contract carries a doc string (schemas/README.md promises it). */
class ContractDocumentationTest {

    @Test
    void everyRecordAndFieldIsDocumented() {
        List<String> undocumented = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Schema schema : List.of(ImageEvent.getClassSchema(), ExemplarQuery.getClassSchema(),
                ExemplarEmbedding.getClassSchema(), DetectionEvent.getClassSchema(), DeadLetter.getClassSchema())) {
            collect(schema, undocumented, seen);
        }
        assertThat(seen).contains("dev.mqdet.events.BoundingBox", "dev.mqdet.events.Exemplar", "dev.mqdet.events.Timings");
        assertThat(undocumented).isEmpty();
    }

    private static void collect(Schema schema, List<String> undocumented, Set<String> seen) {
        switch (schema.getType()) {
            case RECORD -> {
                if (!seen.add(schema.getFullName())) {
                    return;
                }
                if (schema.getDoc() == null || schema.getDoc().isBlank()) {
                    undocumented.add(schema.getFullName());
                }
                for (Schema.Field field : schema.getFields()) {
                    if (field.doc() == null || field.doc().isBlank()) {
                        undocumented.add(schema.getFullName() + "." + field.name());
                    }
                    collect(field.schema(), undocumented, seen);
                }
            }
            case UNION -> schema.getTypes().forEach(t -> collect(t, undocumented, seen));
            case ARRAY -> collect(schema.getElementType(), undocumented, seen);
            case MAP -> collect(schema.getValueType(), undocumented, seen);
            default -> { }
        }
    }
}
