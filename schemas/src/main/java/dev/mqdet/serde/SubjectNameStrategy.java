package dev.mqdet.serde;

import org.apache.avro.Schema;
import org.apache.kafka.common.config.ConfigException;

/** How a record's schema subject is named, as in Confluent's serializers. */
public enum SubjectNameStrategy {
    /** {@code <topic>-key} / {@code <topic>-value}: one schema lineage per topic (the default). */
    TOPIC {
        @Override
        public String subject(String topic, boolean isKey, Schema schema) {
            return topic + (isKey ? "-key" : "-value");
        }
    },
    /** The record's full name: one lineage per record type, across topics. */
    RECORD {
        @Override
        public String subject(String topic, boolean isKey, Schema schema) {
            return schema.getFullName();
        }
    },
    /** {@code <topic>-<record full name>}: several record types per topic. */
    TOPIC_RECORD {
        @Override
        public String subject(String topic, boolean isKey, Schema schema) {
            return topic + "-" + schema.getFullName();
        }
    };

    public abstract String subject(String topic, boolean isKey, Schema schema);

    /** Accepts our short names and Confluent's class names (e.g. io.confluent...TopicNameStrategy). */
    public static SubjectNameStrategy parse(String name) {
        String simple = name.substring(name.lastIndexOf('.') + 1);
        return switch (simple) {
            case "TopicNameStrategy", "TOPIC" -> TOPIC;
            case "RecordNameStrategy", "RECORD" -> RECORD;
            case "TopicRecordNameStrategy", "TOPIC_RECORD" -> TOPIC_RECORD;
            default -> throw new ConfigException("subject.name.strategy", name,
                    "expected TopicNameStrategy, RecordNameStrategy or TopicRecordNameStrategy");
        };
    }
}
