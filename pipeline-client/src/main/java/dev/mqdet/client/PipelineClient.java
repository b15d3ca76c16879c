package dev.mqdet.client;

import dev.mqdet.events.DeadLetter;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ExemplarEmbedding;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.schemaregistry.SchemaRegistryClient;
import dev.mqdet.topics.Keys;
import dev.mqdet.topics.Topic;
import dev.mqdet.topics.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * What a user of the pipeline does, as plain Kafka clients against any broker and registry: create the topics,
 * register categories, publish image events, read detections and dead letters. The demo, the benchmark and the
 * end-to-end tests all drive the pipeline through this one class.
 */
public final class PipelineClient implements AutoCloseable {

    private final String bootstrap;
    private final String topicPrefix;
    private final SchemaRegistryClient registry;
    private final KafkaProducer<String, ExemplarQuery> queries;
    private final KafkaProducer<String, ImageEvent> images;
    private final KafkaProducer<byte[], byte[]> raw;
    private final java.util.concurrent.atomic.AtomicReference<Exception> sendFailure = new java.util.concurrent.atomic.AtomicReference<>();

    public PipelineClient(String bootstrapServers, String registryUrl) {
        this(bootstrapServers, registryUrl, "");
    }

    /** With every topic name prefixed, so several pipelines can share one broker (tests). */
    public PipelineClient(String bootstrapServers, String registryUrl, String topicPrefix) {
        this.bootstrap = bootstrapServers;
        this.topicPrefix = topicPrefix;
        this.registry = new RestSchemaRegistryClient(Map.of("schema.registry.url", registryUrl));
        this.queries = new KafkaProducer<>(producerProps(), new StringSerializer(), Topics.EXEMPLAR_QUERIES.valueSerde(registry).serializer());
        this.images = new KafkaProducer<>(producerProps(), new StringSerializer(), Topics.IMAGES.valueSerde(registry).serializer());
        this.raw = new KafkaProducer<>(producerProps(), new ByteArraySerializer(), new ByteArraySerializer());
    }

    public SchemaRegistryClient registry() {
        return registry;
    }

    public String topic(Topic<?> topic) {
        return topicPrefix + topic.defaultName();
    }

    /** What every topic name of this client starts with ("" unless several pipelines share one broker). */
    public String topicPrefix() {
        return topicPrefix;
    }

    /** Creates every pipeline topic (compacted where it is a table); {@code imagePartitions} for images and outputs. */
    public void createTopics(int imagePartitions) {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            List<NewTopic> topics = new ArrayList<>();
            for (Topic<?> topic : Topics.ALL) {
                int partitions = topic.compacted() ? 1 : imagePartitions;
                topics.add(new NewTopic(topic(topic), partitions, (short) 1).configs(topic.topicConfig()));
            }
            for (NewTopic topic : topics) {
                try {
                    admin.createTopics(List.of(topic)).all().get();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("creating " + topic.name() + " failed", e.getCause());
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Writes every category (all sent, then one wait: many thousands take seconds, not one round trip each). */
    public void register(List<ExemplarQuery> categories) {
        AtomicReference<Exception> failed = new AtomicReference<>();
        for (ExemplarQuery query : categories) {
            queries.send(new ProducerRecord<>(topic(Topics.EXEMPLAR_QUERIES), Keys.query(query.getQuerySetId(), query.getCategoryId()), query),
                    (metadata, error) -> {
                        if (error != null) {
                            failed.compareAndSet(null, error);
                        }
                    });
        }
        queries.flush();
        if (failed.get() != null) {
            throw new IllegalStateException("registering categories failed: " + failed.get(), failed.get());
        }
    }

    public void deleteCategory(String querySetId, String categoryId) {
        send(queries, topic(Topics.EXEMPLAR_QUERIES), Keys.query(querySetId, categoryId), null);
        queries.flush();
    }

    /** Publishes without waiting; {@link #flush()} waits for every send and reports the first failure. */
    public void publish(ImageEvent event) {
        images.send(new ProducerRecord<>(topic(Topics.IMAGES), event.getEventId(), event), (metadata, error) -> {
            if (error != null) {
                sendFailure.compareAndSet(null, error);
            }
        });
    }

    /** Any bytes as an image event's value: for bad-input tests and producers outside the Avro world. */
    public void publishRaw(byte[] key, byte[] value) {
        send(raw, topic(Topics.IMAGES), key, value);
    }

    public void flush() {
        images.flush();
        raw.flush();
        Exception failure = sendFailure.getAndSet(null);
        if (failure != null) {
            throw new IllegalStateException("publishing image events failed: " + failure, failure);
        }
    }

    /** Waits until every category is encoded for {@code modelId} at the given revision. */
    public void awaitEncoded(String modelId, List<ExemplarQuery> categories, Duration timeout) {
        Map<String, Long> wanted = new HashMap<>();
        categories.forEach(q -> wanted.put(Keys.embedding(modelId, q.getQuerySetId(), q.getCategoryId()), q.getRevision()));
        List<ConsumerRecord<String, ExemplarEmbedding>> seen = read(Topics.EXEMPLAR_EMBEDDINGS, records -> {
            Map<String, Long> latest = new HashMap<>();
            records.forEach(r -> latest.put(r.key(), r.value() == null ? -1 : r.value().getQueryRevision()));
            return wanted.entrySet().stream().allMatch(w -> w.getValue().equals(latest.get(w.getKey())));
        }, timeout);
        if (seen == null) {
            throw new IllegalStateException("categories were not encoded for model " + modelId + " within " + timeout);
        }
    }

    /** Reads a topic from the beginning (read_committed) until {@code done} holds for everything read so far, or the timeout. */
    public <V extends SpecificRecord> List<ConsumerRecord<String, V>> read(Topic<V> topic,
            Predicate<List<ConsumerRecord<String, V>>> done, Duration timeout) {
        Properties props = readerProps();
        props.put("group.id", "pipeline-client-" + UUID.randomUUID());
        props.put("auto.offset.reset", "earliest");
        List<ConsumerRecord<String, V>> records = new ArrayList<>();
        try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(props, new StringDeserializer(), topic.valueSerde(registry).deserializer())) {
            consumer.subscribe(List.of(topic(topic)));
            return pollUntil(consumer, records, done, timeout);
        }
    }

    /** Polls into {@code records} until {@code done} holds for all of them; null at the timeout. */
    private static <V> List<ConsumerRecord<String, V>> pollUntil(KafkaConsumer<String, V> consumer, List<ConsumerRecord<String, V>> records,
            Predicate<List<ConsumerRecord<String, V>>> done, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            if (done.test(records)) {
                return records;
            }
        }
        return done.test(records) ? records : null;
    }

    /** A consumer that reads committed records only and commits no offsets. */
    private Properties readerProps() {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("isolation.level", "read_committed");
        props.put("enable.auto.commit", "false");
        return props;
    }

    /** Everything a read_committed consumer reads from the topic within {@code wait}. */
    public <V extends SpecificRecord> List<ConsumerRecord<String, V>> readFor(Topic<V> topic, Duration wait) {
        List<List<ConsumerRecord<String, V>>> last = new ArrayList<>();
        read(topic, records -> {
            last.clear();
            last.add(records);
            return false;
        }, wait);
        return last.isEmpty() ? List.of() : last.get(0);
    }

    /**
     * A read_committed reader of {@code topic} that starts at its end when this returns: it sees what is committed
     * afterwards, not what earlier rounds left in the topic (a benchmark's measured burst, say).
     */
    public <V extends SpecificRecord> Tail<V> tail(Topic<V> topic) {
        KafkaConsumer<String, V> consumer = new KafkaConsumer<>(readerProps(), new StringDeserializer(), topic.valueSerde(registry).deserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(topic(topic)).stream()
                .map(info -> new TopicPartition(info.topic(), info.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position); // looks the end offsets up now, not at the first poll
        return new Tail<>(consumer);
    }

    /** See {@link #tail}. */
    public static final class Tail<V> implements AutoCloseable {
        private final KafkaConsumer<String, V> consumer;
        private final List<ConsumerRecord<String, V>> records = new ArrayList<>();

        private Tail(KafkaConsumer<String, V> consumer) {
            this.consumer = consumer;
        }

        /** Reads until {@code done} holds for everything read since the tail was opened; null at the timeout. */
        public List<ConsumerRecord<String, V>> until(Predicate<List<ConsumerRecord<String, V>>> done, Duration timeout) {
            return pollUntil(consumer, records, done, timeout);
        }

        /** One poll: the records read in it, at most {@code wait} later (not added to {@link #seen}). */
        public List<ConsumerRecord<String, V>> poll(Duration wait) {
            List<ConsumerRecord<String, V>> polled = new ArrayList<>();
            consumer.poll(wait).forEach(polled::add);
            return polled;
        }

        /** Everything read since the tail was opened (also after {@link #until} timed out). */
        public List<ConsumerRecord<String, V>> seen() {
            return List.copyOf(records);
        }

        @Override
        public void close() {
            consumer.close();
        }
    }

    public List<ConsumerRecord<String, DetectionEvent>> detections(Predicate<List<ConsumerRecord<String, DetectionEvent>>> done, Duration timeout) {
        return read(Topics.DETECTIONS, done, timeout);
    }

    public List<ConsumerRecord<String, DeadLetter>> deadLetters(Predicate<List<ConsumerRecord<String, DeadLetter>>> done, Duration timeout) {
        return read(Topics.IMAGES_DLQ, done, timeout);
    }

    private static <K, V> void send(KafkaProducer<K, V> producer, String topic, K key, V value) {
        try {
            producer.send(new ProducerRecord<>(topic, key, value)).get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("producing to " + topic + " failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private Properties producerProps() {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("acks", "all");
        props.put("enable.idempotence", "true");
        props.put("linger.ms", "5");
        props.put("max.request.size", Integer.toString(16 << 20));
        return props;
    }

    @Override
    public void close() {
        queries.close();
        images.close();
        raw.close();
    }
}
