package dev.mqdet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LocalStackExtension.class)
class LocalStackTest {

    @Test
    void brokerAcceptsAndServesRecords(LocalStack stack) throws Exception {
        stack.kafka().createTopic("kit-smoke", 1, Map.of());
        Properties producerProps = new Properties();
        producerProps.put("bootstrap.servers", stack.bootstrapServers());
        try (var producer = new KafkaProducer<>(producerProps, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>("kit-smoke", "k", "hello")).get();
        }
        Properties consumerProps = new Properties();
        consumerProps.put("bootstrap.servers", stack.bootstrapServers());
        consumerProps.put("group.id", "kit-smoke");
        consumerProps.put("auto.offset.reset", "earliest");
        try (var consumer = new KafkaConsumer<>(consumerProps, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of("kit-smoke"));
            ConsumerRecords<String, String> records = ConsumerRecords.empty();
            for (int i = 0; i < 50 && records.isEmpty(); i++) {
                records = consumer.poll(Duration.ofMillis(200));
            }
            assertThat(records).extracting(r -> r.value()).containsExactly("hello");
        }
    }

    @Test
    void registryServesConfluentApiWithBackwardCompatibility(LocalStack stack) throws Exception {
        HttpResponse<String> config = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(stack.schemaRegistryUrl() + "/config")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(config.statusCode()).isEqualTo(200);
        assertThat(config.body()).contains("BACKWARD");
        assertThat(stack.registry().isRunning()).isTrue();
    }

    @Test
    void sameInstanceIsSharedAcrossTests(LocalStack stack) {
        assertThat(LocalStack.shared()).isSameAs(stack);
    }
}
