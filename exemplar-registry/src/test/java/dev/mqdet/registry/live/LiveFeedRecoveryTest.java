package dev.mqdet.registry.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.InlineImage;
import dev.mqdet.registry.health.Health;
import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import dev.mqdet.topics.Topics;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The live feed outlives a metadata timeout. The consumer is a real one on the real broker; only its
 * {@code listTopics} answers a timeout while the fault is on, because a broker that stops answering metadata requests
 * but keeps serving fetches cannot be caused on the in-process broker.
 */
@ExtendWith(LocalStackExtension.class)
class LiveFeedRecoveryTest {

    @Test
    void aListTopicsTimeoutDegradesTheServiceUntilTheFeedRecovers(LocalStack stack) throws Exception {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String images = "images-live-" + suffix;
        String detections = "detections-live-" + suffix;
        stack.kafka().createTopic(images, 1, Map.of());
        RestSchemaRegistryClient registry = new RestSchemaRegistryClient(Map.of("schema.registry.url", stack.schemaRegistryUrl()));
        AtomicBoolean fault = new AtomicBoolean(true);
        AtomicInteger failedCalls = new AtomicInteger();
        Health health = new Health();
        try (LiveFeed feed = new LiveFeed(Map.of("bootstrap.servers", stack.bootstrapServers()), detections, images,
                Topics.DETECTIONS.valueSerde(registry).deserializer(), Topics.IMAGES.valueSerde(registry).deserializer(), 10, 1 << 20,
                health.register("live-feed", Health.Impact.DEGRADED),
                props -> new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer()) {
                    @Override
                    public Map<String, List<PartitionInfo>> listTopics(Duration timeout) {
                        if (fault.get()) {
                            failedCalls.incrementAndGet();
                            throw new TimeoutException("Timeout expired while fetching topic metadata");
                        }
                        return super.listTopics(timeout);
                    }
                })) {
            feed.start();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                Health.Report report = health.report();
                assertThat(report.status()).isEqualTo("degraded");
                assertThat(report.components().get("live-feed").reason()).contains("Timeout expired");
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> failedCalls.get() >= 2); // it keeps trying

            fault.set(false);
            byte[] png = {(byte) 0x89, 'P', 'N', 'G', 0, 1, 2, 3};
            try (KafkaProducer<String, ImageEvent> producer = new KafkaProducer<>(Map.of("bootstrap.servers", stack.bootstrapServers()),
                    new StringSerializer(), Topics.IMAGES.valueSerde(registry).serializer())) {
                ImageEvent frame = ImageEvent.newBuilder().setEventId("frame-after-fault").setSource("cam").setQuerySetId("q")
                        .setCapturedAtMs(Instant.now()).setImage(InlineImage.newBuilder().setData(ByteBuffer.wrap(png)).setMediaType("image/png").build())
                        .build();
                producer.send(new ProducerRecord<>(images, frame.getEventId(), frame)).get();
            }
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(feed.image("frame-after-fault")).isPresent());
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(health.report().status()).isEqualTo("up"));
        }
    }
}
