package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.client.PipelineClient;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The batch buffer's changelog does not carry a second copy of every image: an event buffered and answered
 * between two commits reaches the changelog only as a tombstone (the store's cache absorbs the put and the
 * delete). What stays buffered across a commit is still written in full; {@link ExactlyOnceCrashTest} covers that.
 */
@ExtendWith(LocalStackExtension.class)
class BatchBufferChangelogTest {

    @Test
    void eventsAnsweredBetweenCommitsLeaveOnlyTombstonesInTheChangelog(LocalStack stack) throws Exception {
        SyntheticWorld world = TestPipelines.world();
        int events = 16;
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "bufcl-")) {
            client.createTopics(1);
            List<ExemplarQuery> queries = world.querySet("bufcl", world.categories(List.of(91, 109)), 5, true, 1);
            client.register(queries);
            Map<String, String> settings = TestPipelines.settings(stack, client, "bufcl");
            settings.put(StreamsAppConfig.BATCH_SIZE, "8");
            settings.put(StreamsAppConfig.BATCH_MAX_WAIT_MS, "60000"); // only full batches run
            settings.put("commit.interval.ms", "10000"); // the 16 events arrive and are answered well inside one interval
            long imageBytes = 0;
            try (PipelineApp app = PipelineApp.start(StreamsAppConfig.of(settings))) {
                app.awaitRunning(Duration.ofSeconds(90));
                client.awaitEncoded(app.model().modelId(), queries, Duration.ofMinutes(2));
                for (int i = 0; i < events; i++) {
                    ImageEvent event = world.imageEvent("bufcl-" + i, i, "bufcl");
                    imageBytes += event.getImage() instanceof dev.mqdet.events.InlineImage inline ? inline.getData().remaining() : 0;
                    client.publish(event);
                }
                client.flush();
                assertThat(client.detections(r -> r.size() >= events, Duration.ofMinutes(2))).as("every event answered").hasSize(events);
            }

            List<ConsumerRecord<byte[], byte[]>> changelog = readAll("bufcl-" + dev.mqdet.streams.detect.BatchedDetectionProcessor.BUFFER_STORE + "-changelog", stack);
            long changelogValueBytes = changelog.stream().mapToLong(r -> r.value() == null ? 0 : r.value().length).sum();
            System.err.printf("buffer changelog: %d records, %d value bytes, for %d image bytes in%n", changelog.size(), changelogValueBytes, imageBytes);
            assertThat(imageBytes).isGreaterThan(100_000L);
            assertThat(changelogValueBytes).as("image bytes copied into the buffer's changelog").isLessThan(imageBytes / 4);
        }
    }

    private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic, LocalStack stack) {
        Map<String, Object> props = Map.of("bootstrap.servers", stack.bootstrapServers(), "isolation.level", "read_committed");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 30_000;
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p)) && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            return records;
        }
    }
}
