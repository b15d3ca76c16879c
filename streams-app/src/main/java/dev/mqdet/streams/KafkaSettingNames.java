package dev.mqdet.streams;

import dev.mqdet.schemaregistry.SchemaRegistryClientConfig;
import dev.mqdet.serde.AvroSerdeConfig;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The names a {@code KAFKA_*} environment variable may set: every Kafka Streams, producer, consumer and admin setting
 * (also with the prefixes Kafka Streams routes to one client, e.g. {@code producer.} or {@code main.consumer.}),
 * every topic setting under {@code topic.}, and the Schema Registry client's and Avro serdes' settings. Orchestrators
 * set variables of their own that look alike ({@code KAFKA_PORT}, {@code KAFKA_SERVICE_HOST} in Kubernetes for a
 * service named kafka); those must not reach the clients.
 */
final class KafkaSettingNames {

    private static final Set<String> NAMES = names();

    private KafkaSettingNames() {}

    static boolean isKnown(String key) {
        return NAMES.contains(key);
    }

    private static Set<String> names() {
        Set<String> names = new HashSet<>(StreamsConfig.configDef().names());
        names.addAll(ProducerConfig.configNames());
        names.addAll(ConsumerConfig.configNames());
        names.addAll(AdminClientConfig.configNames());
        names.addAll(SchemaRegistryClientConfig.CONFIG.names());
        names.addAll(AvroSerdeConfig.CONFIG.names());
        Map<String, Set<String>> prefixed = Map.of(
                StreamsConfig.PRODUCER_PREFIX, ProducerConfig.configNames(),
                StreamsConfig.CONSUMER_PREFIX, ConsumerConfig.configNames(),
                StreamsConfig.MAIN_CONSUMER_PREFIX, ConsumerConfig.configNames(),
                StreamsConfig.RESTORE_CONSUMER_PREFIX, ConsumerConfig.configNames(),
                StreamsConfig.GLOBAL_CONSUMER_PREFIX, ConsumerConfig.configNames(),
                StreamsConfig.ADMIN_CLIENT_PREFIX, AdminClientConfig.configNames(),
                StreamsConfig.TOPIC_PREFIX, topicConfigNames());
        prefixed.forEach((prefix, keys) -> keys.forEach(key -> names.add(prefix + key)));
        return Set.copyOf(names);
    }

    /** TopicConfig lists its names only as constants. */
    private static Set<String> topicConfigNames() {
        Set<String> names = new HashSet<>();
        for (Field field : TopicConfig.class.getFields()) {
            if (Modifier.isStatic(field.getModifiers()) && field.getName().endsWith("_CONFIG") && field.getType() == String.class) {
                try {
                    names.add((String) field.get(null));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException("TopicConfig." + field.getName() + " is not readable", e);
                }
            }
        }
        return names;
    }
}
