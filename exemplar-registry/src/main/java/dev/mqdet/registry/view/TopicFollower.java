package dev.mqdet.registry.view;

import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.registry.health.Health;
import dev.mqdet.schemaregistry.SchemaRegistryUnavailableException;
import dev.mqdet.topics.Keys;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
 * consumer group or offset commit is involved.
 *
 * <p>No record is skipped for a reason that may pass: when the Schema Registry is unreachable, the follower retries
 * the same record (backing off up to a few seconds) and reports itself failing through {@link Health}, which makes
 * {@code /health} say unhealthy, until the record is applied; the same holds for errors of the consumer itself. Only a
 * record that can never be applied (bad key, a payload that does not decode, a value naming another key) is logged,
 * counted and skipped: waiting would not change it and would stop the view for good.
 */
public final class TopicFollower implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TopicFollower.class);
    private static final long MIN_BACKOFF_MS = 100;
    private static final long MAX_BACKOFF_MS = 5_000;
    private static final long NO_DEADLINE = Long.MIN_VALUE;
    private static final long PROBE_INTERVAL_MS = 10_000;

    private final String topic;
    private final Deserializer<ExemplarQuery> values;
    private final QuerySetView view;
    private final KafkaConsumer<String, byte[]> consumer;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicLong skipped = new AtomicLong();
    private final CountDownLatch stopping = new CountDownLatch(1);
    private final Health.Component health;
    private Thread thread;

    public TopicFollower(Map<String, Object> kafkaConfig, String topic, Deserializer<ExemplarQuery> values, QuerySetView view,
                         Health.Component health) {
        this.topic = topic;
        this.values = values;
        this.view = view;
        this.health = health;
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
                apply(record, deadline);
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
        long backoffMs = MIN_BACKOFF_MS;
        long nextProbe = 0;
        try {
            while (running.get()) {
                try {
                    for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                        apply(record, NO_DEADLINE);
                    }
                    if (System.currentTimeMillis() >= nextProbe) {
                        // poll() just returns nothing while the broker is away; asking for the end offsets notices it.
                        consumer.endOffsets(consumer.assignment(), Duration.ofSeconds(5));
                        nextProbe = System.currentTimeMillis() + PROBE_INTERVAL_MS;
                    }
                    health.ok();
                    backoffMs = MIN_BACKOFF_MS;
                } catch (WakeupException | Stopped e) {
                    // close() asked us to stop, or a spurious wake-up: the loop condition decides.
                } catch (RuntimeException e) {
                    // The position stays at the first record not applied: nothing is lost, it is read again.
                    health.failing("reading " + topic + " failed: " + e + "; retrying, the view may be behind the topic");
                    log.warn("the exemplar-queries follower failed, retrying in {} ms: {}", backoffMs, e.toString());
                    if (pause(backoffMs)) {
                        break;
                    }
                    backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
                }
            }
        } finally {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        }
    }

    /** Applies one record, retrying while the failure may pass; gives up only at {@code deadline} (System.nanoTime). */
    private void apply(ConsumerRecord<String, byte[]> record, long deadline) {
        String[] ids;
        try {
            ids = Keys.split(record.key(), 2);
        } catch (IllegalArgumentException e) {
            skip(record, "bad key: " + e.getMessage());
            return;
        }
        ExemplarQuery value = null;
        if (record.value() != null) {
            long backoffMs = MIN_BACKOFF_MS;
            while (true) {
                try {
                    value = values.deserialize(record.topic(), record.value());
                    break;
                } catch (SchemaRegistryUnavailableException e) {
                    String where = record.topic() + "-" + record.partition() + "@" + record.offset();
                    health.failing("cannot decode " + where + ": " + e.getMessage() + "; retrying, the view is behind the topic");
                    log.warn("cannot decode {} yet, retrying in {} ms: {}", where, backoffMs, e.getMessage());
                    if (deadline != NO_DEADLINE && System.nanoTime() - deadline > 0) {
                        throw new IllegalStateException("could not decode " + where + " in time: " + e.getMessage(), e);
                    }
                    if (pause(backoffMs)) {
                        throw new Stopped();
                    }
                    backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
                } catch (RuntimeException e) {
                    skip(record, e.getClass().getSimpleName() + ": " + e.getMessage());
                    return;
                }
            }
            if (!ids[0].equals(value.getQuerySetId()) || !ids[1].equals(value.getCategoryId())) {
                skip(record, "value names " + value.getQuerySetId() + "/" + value.getCategoryId() + ", not its key");
                return;
            }
        }
        view.apply(ids[0], ids[1], value, record.offset());
    }

    /** Waits {@code millis}; true when the follower is being closed. */
    private boolean pause(long millis) {
        try {
            return stopping.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }

    /** Unwinds a retry loop when the follower is closed. */
    private static final class Stopped extends RuntimeException {
        Stopped() {
            super("stopping", null, false, false);
        }
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
        stopping.countDown();
        if (thread != null) {
            consumer.wakeup();
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } else {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        }
    }
}
