package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.inference.ModelPackage;
import dev.mqdet.inference.MqDetModel;
import dev.mqdet.inference.eval.EvalSet;
import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.streams.ops.PipelineMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import dev.mqdet.topics.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A new model id re-encodes every stored query at start. Under exactly-once, 1,200 categories x 5 exemplars
 * re-encoded in one punctuation outlast the producer's transaction (timeout lowered to 5 s here): the broker aborts
 * it and the work repeats. Encoded in slices, each in its own short transaction, every embedding is written once:
 * a read_uncommitted consumer, which also sees the records of aborted transactions, finds exactly 1,200.
 */
@ExtendWith(LocalStackExtension.class)
class ModelRolloutTest {

    private static final int CATEGORIES = 1_200;

    @Test
    void aModelRollOutReencodesALargeQuerySetWithNoAbortedTransaction(LocalStack stack) throws Exception {
        SyntheticWorld world = TestPipelines.world();
        try (PipelineClient client = new PipelineClient(stack.bootstrapServers(), stack.schemaRegistryUrl(), "rollout-")) {
            client.createTopics(1);
            List<ExemplarQuery> queries = largeQuerySet(world);
            client.register(queries);
            Map<String, String> settings = TestPipelines.settings(stack, client, "rollout");
            settings.put("producer.transaction.timeout.ms", "5000");
            long started = System.nanoTime();
            try (PipelineApp first = PipelineApp.start(StreamsAppConfig.of(settings))) {
                client.awaitEncoded(first.model().modelId(), queries, Duration.ofMinutes(4));
            }
            System.out.printf("encoded %d categories x 5 exemplars as they arrived in %.1f s%n", CATEGORIES, (System.nanoTime() - started) / 1e9);

            String rolledOut = "mqdet-synth-rollout";
            settings.put(StreamsAppConfig.MODEL_DIR, renamedModel(rolledOut).toString());
            settings.put("state.dir", TestPipelines.tempDir("rollout-second").toString()); // a new pod: stores restored from changelogs
            started = System.nanoTime();
            try (PipelineApp second = PipelineApp.start(StreamsAppConfig.of(settings))) {
                client.awaitEncoded(rolledOut, queries, Duration.ofMinutes(4));
            }
            System.out.printf("re-encoded them for a new model id in %.1f s%n", (System.nanoTime() - started) / 1e9);
            assertThat(recordsIncludingAborted(stack, client.topic(Topics.EXEMPLAR_EMBEDDINGS), rolledOut + "/"))
                    .as("embeddings of the new model written, aborted transactions included").isEqualTo(CATEGORIES);
        }
    }

    @Test
    void aModelIdThatCannotBeAKeyIsRefusedAtStart(LocalStack stack) throws Exception {
        Path badModel = renamedModel("synth/v2");
        try (MqDetModel model = MqDetModel.load(ModelPackage.load(badModel), MqDetModel.Options.builder().optPoolSize(1).build())) {
            StreamsAppConfig config = StreamsAppConfig.of(Map.of(StreamsAppConfig.MODEL_DIR, badModel.toString()));
            RestSchemaRegistryClient registry = new RestSchemaRegistryClient(Map.of("schema.registry.url", stack.schemaRegistryUrl()));
            assertThatThrownBy(() -> DetectionTopology.build(config, model, registry, new PipelineMetrics(new SimpleMeterRegistry())))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("model id 'synth/v2' is not a valid id")
                    .hasMessageContaining("model.json");
        }
    }

    /** {@value #CATEGORIES} categories of the synthetic world's scenes, 5 exemplars each, cycling through its categories. */
    private static List<ExemplarQuery> largeQuerySet(SyntheticWorld world) {
        List<EvalSet.Category> categories = world.evalSet().categories();
        List<ExemplarQuery> queries = new ArrayList<>(CATEGORIES);
        for (int i = 0; i < CATEGORIES; i++) {
            EvalSet.Category category = categories.get(i % categories.size());
            queries.add(ExemplarQuery.newBuilder()
                    .setQuerySetId("large")
                    .setCategoryId("c" + i)
                    .setLabel(category.name())
                    .setExemplars(world.exemplars(category, 5))
                    .setRevision(1)
                    .setUpdatedAtMs(Instant.now())
                    .setUpdatedBy("test")
                    .build());
        }
        return queries;
    }

    /** The shipped model under another id: same weights, a new {@code name} in model.json. */
    private static Path renamedModel(String name) throws Exception {
        Path shipped = Path.of(TestPipelines.modelDir());
        Path dir = TestPipelines.tempDir("model-" + name.replaceAll("[^A-Za-z0-9-]", "_"));
        try (var files = Files.list(shipped)) {
            for (Path file : files.toList()) {
                Files.createSymbolicLink(dir.resolve(file.getFileName()), file.toAbsolutePath());
            }
        }
        Path json = dir.resolve("model.json");
        String contract = Files.readString(shipped.resolve("model.json"));
        Files.delete(json);
        Files.writeString(json, contract.replaceFirst("\"name\":\\s*\"[^\"]*\"", "\"name\": \"" + name + "\""));
        return dir;
    }

    private static int recordsIncludingAborted(LocalStack stack, String topic, String keyPrefix) {
        Properties props = new Properties();
        props.put("bootstrap.servers", stack.bootstrapServers());
        props.put("isolation.level", "read_uncommitted");
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            int count = 0;
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    if (record.key() != null && record.key().startsWith(keyPrefix)) {
                        count++;
                    }
                }
            }
            return count;
        }
    }
}
