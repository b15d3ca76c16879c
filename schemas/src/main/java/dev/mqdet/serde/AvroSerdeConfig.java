package dev.mqdet.serde;

import dev.mqdet.schemaregistry.SchemaRegistryClientConfig;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;

/** Settings of the Avro serdes: the registry client's, plus how subjects are named and records are read. Keys are Confluent's. */
public final class AvroSerdeConfig extends SchemaRegistryClientConfig {

    public static final String AUTO_REGISTER_SCHEMAS = "auto.register.schemas";
    public static final String SPECIFIC_AVRO_READER = "specific.avro.reader";
    public static final String KEY_SUBJECT_NAME_STRATEGY = "key.subject.name.strategy";
    public static final String VALUE_SUBJECT_NAME_STRATEGY = "value.subject.name.strategy";

    public static final ConfigDef CONFIG = define(new ConfigDef())
            .define(AUTO_REGISTER_SCHEMAS, Type.BOOLEAN, true, Importance.MEDIUM,
                    "Register the writer's schema when it is new to the subject; when false, the schema must already be registered.")
            .define(SPECIFIC_AVRO_READER, Type.BOOLEAN, false, Importance.MEDIUM,
                    "Deserialise into generated SpecificRecord classes (found by the writer schema's full name) instead of GenericRecord.")
            .define(KEY_SUBJECT_NAME_STRATEGY, Type.STRING, "TopicNameStrategy", Importance.LOW,
                    "Subject of record keys: TopicNameStrategy (<topic>-key), RecordNameStrategy or TopicRecordNameStrategy; Confluent's class names are accepted too.")
            .define(VALUE_SUBJECT_NAME_STRATEGY, Type.STRING, "TopicNameStrategy", Importance.LOW,
                    "Subject of record values: TopicNameStrategy (<topic>-value), RecordNameStrategy or TopicRecordNameStrategy.");

    public AvroSerdeConfig(Map<?, ?> originals) {
        super(CONFIG, originals);
    }

    public SubjectNameStrategy subjectNameStrategy(boolean isKey) {
        return SubjectNameStrategy.parse(getString(isKey ? KEY_SUBJECT_NAME_STRATEGY : VALUE_SUBJECT_NAME_STRATEGY));
    }
}
