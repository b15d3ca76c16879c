package dev.mqdet.serde;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.events.ImageEvent;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Plain Kafka clients, configured by class name as any user would, through the real broker and registry. */
@ExtendWith(LocalStackExtension.class)
class AvroSerdeThroughBrokerTest {

    @Test
    void plainProducerAndConsumerRoundTripSpecificRecords(LocalStack stack) throws Exception {
        String topic = "images-roundtrip";
        stack.kafka().createTopic(topic, 1, Map.of());
        ImageEvent inline = SampleEvents.inline("e-1", new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        ImageEvent referenced = SampleEvents.byReference("https://images.example.com/cam8/0001.jpg");

        Properties producerProps = new Properties();
        producerProps.put("bootstrap.servers", stack.bootstrapServers());
        producerProps.put("key.serializer", StringSerializer.class.getName());
        producerProps.put("value.serializer", AvroSerializer.class.getName());
        producerProps.put("schema.registry.url", stack.schemaRegistryUrl());
        try (KafkaProducer<String, ImageEvent> producer = new KafkaProducer<>(producerProps)) {
            producer.send(new ProducerRecord<>(topic, inline.getEventId(), inline)).get();
            producer.send(new ProducerRecord<>(topic, referenced.getEventId(), referenced)).get();
            producer.send(new ProducerRecord<>(topic, "deleted", null)).get();
        }

        Properties consumerProps = consumerProps(stack, "roundtrip-specific");
        consumerProps.put("specific.avro.reader", "true");
        List<ConsumerRecord<String, Object>> records = consumeAll(consumerProps, topic, 3);
        assertThat(records).extracting(ConsumerRecord::value).containsExactly(inline, referenced, null);
    }

    @Test
    void genericConsumerReadsWhatSpecificProducerWrote(LocalStack stack) throws Exception {
        String topic = "images-generic";
        stack.kafka().createTopic(topic, 1, Map.of());
        ImageEvent event = SampleEvents.inline("e-2", new byte[] {1, 2, 3, 4});
        Properties producerProps = new Properties();
        producerProps.put("bootstrap.servers", stack.bootstrapServers());
        producerProps.put("key.serializer", StringSerializer.class.getName());
        producerProps.put("value.serializer", AvroSerializer.class.getName());
        producerProps.put("schema.registry.url", stack.schemaRegistryUrl());
        try (KafkaProducer<String, ImageEvent> producer = new KafkaProducer<>(producerProps)) {
            producer.send(new ProducerRecord<>(topic, event.getEventId(), event)).get();
        }

        List<ConsumerRecord<String, Object>> records = consumeAll(consumerProps(stack, "roundtrip-generic"), topic, 1);
        GenericRecord generic = (GenericRecord) records.get(0).value();
        assertThat(generic.getSchema()).isEqualTo(ImageEvent.getClassSchema());
        assertThat(generic.get("eventId").toString()).isEqualTo("e-2");
        assertThat(((GenericRecord) generic.get("image")).getSchema().getName()).isEqualTo("InlineImage");
    }

    private static Properties consumerProps(LocalStack stack, String group) {
        Properties props = new Properties();
        props.put("bootstrap.servers", stack.bootstrapServers());
        props.put("group.id", group);
        props.put("auto.offset.reset", "earliest");
        props.put("key.deserializer", StringDeserializer.class.getName());
        props.put("value.deserializer", AvroDeserializer.class.getName());
        props.put("schema.registry.url", stack.schemaRegistryUrl());
        return props;
    }

    private static List<ConsumerRecord<String, Object>> consumeAll(Properties props, String topic, int expected) {
        List<ConsumerRecord<String, Object>> records = new ArrayList<>();
        try (KafkaConsumer<String, Object> consumer = new KafkaConsumer<>(props)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 20_000;
            while (records.size() < expected && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        assertThat(records).hasSize(expected);
        return records;
    }
}
