package dev.mqdet.registry.view;

import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.topics.Keys;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the exemplar-queries topic into a {@link QuerySetView}: first from the beginning up to the end offsets taken
 * at start (the service serves nothing before that), then in a background thread for as long as the service runs,
 * so writes by other registry instances (or by hand, with any Kafka client) show up too.
 *
 * <p>Reads committed records only ({@code isolation.level=read_committed}): a rename is one transaction, and an
 * aborted write never appears. Partitions are assigned, not subscribed: every instance reads everything, and no
 * consumer group or offset commit is involved. A record that cannot be decoded is logged and skipped, never fatal.
 */
public final class TopicFollower implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TopicFollower.class);

    private final String topic;
    private final Deserializer<ExemplarQuery> values;
    private final QuerySetView view;
    private final KafkaConsumer<String, byte[]> consumer;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicLong skipped = new AtomicLong();
    private Thread thread;

    public TopicFollower(Map<String, Object> kafkaConfig, String topic, Deserializer<ExemplarQuery> values, QuerySetView view) {
        this.topic = topic;
        this.values = values;
        this.view = view;
        Map<String, Object> props = new HashMap<>(kafkaConfig);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "exemplar-registry-view");
        this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    }

    /** Reads the topic from its beginning to its end offsets as of now; returns how many records were read. */
    public long rebuild(Duration timeout) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
        if (infos == null || infos.isEmpty()) {
            throw new IllegalStateException("topic " + topic + " does not exist");
        }
        List<TopicPartition> partitions = infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
        long deadline = System.nanoTime() + timeout.toNanos();
        long read = 0;
        while (!caughtUp(end)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("could not read " + topic + " to its end offsets " + end + " within " + timeout);
            }
            for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                apply(record);
                read++;
            }
        }
        log.info("rebuilt the view from {}: {} records, {} query sets", topic, read, view.querySets().size());
        return read;
    }

    private boolean caughtUp(Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** Keeps following the topic in a daemon thread; call after {@link #rebuild}. */
    public void startFollowing() {
        running.set(true);
        thread = new Thread(this::follow, "exemplar-queries-follower");
        thread.setDaemon(true);
        thread.start();
    }

    private void follow() {
        try {
            while (running.get()) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    apply(record);
                }
            }
        } catch (WakeupException e) {
            // close() asked us to stop.
        } catch (RuntimeException e) {
            log.error("the exemplar-queries follower stopped: writes by other instances are no longer seen", e);
        } finally {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        }
    }

    private void apply(ConsumerRecord<String, byte[]> record) {
        String[] ids;
        try {
            ids = Keys.split(record.key(), 2);
        } catch (IllegalArgumentException e) {
            skip(record, "bad key: " + e.getMessage());
            return;
        }
        ExemplarQuery value = null;
        if (record.value() != null) {
            try {
                value = values.deserialize(record.topic(), record.value());
            } catch (RuntimeException e) {
                skip(record, e.getClass().getSimpleName() + ": " + e.getMessage());
                return;
            }
            if (!ids[0].equals(value.getQuerySetId()) || !ids[1].equals(value.getCategoryId())) {
                skip(record, "value names " + value.getQuerySetId() + "/" + value.getCategoryId() + ", not its key");
                return;
            }
        }
        view.apply(ids[0], ids[1], value, record.offset());
    }

    private void skip(ConsumerRecord<String, byte[]> record, String why) {
        skipped.incrementAndGet();
        log.warn("skipped {}-{}@{}: {}", record.topic(), record.partition(), record.offset(), why);
    }

    /** Records that could not be applied (bad key or value). */
    public long skippedCount() {
        return skipped.get();
    }

    @Override
    public void close() {
        running.set(false);
        if (thread != null) {
            consumer.wakeup();
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } else {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        }
    }
}
