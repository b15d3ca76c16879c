package dev.mqdet.registry.live;

import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.InlineImage;
import dev.mqdet.registry.health.Health;
import dev.mqdet.schemaregistry.SchemaRegistryUnavailableException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The most recent detection events, and the inline images they were made on, for the web page's live view. Bounded
 * in memory: the last {@code maxEvents} detections, and images (by eventId) up to a count and a byte budget, oldest
 * dropped first. Detection events carry no pixels, so the images topic is read too; images given by URI are not
 * fetched (the registry makes no outbound requests).
 *
 * <p>Reads both topics with assigned partitions and no consumer group, starting a little before their ends so events
 * just before the page opened are shown. Topics that do not exist yet are picked up when they appear.
 *
 * <p>An error of the consumer (a metadata timeout while the broker is away, for instance) does not end the feed: it is
 * reported through {@link Health} (the service is then degraded, with the reason), and the feed retries with back-off
 * and reports itself working again once a round succeeds.
 */
public final class LiveFeed implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LiveFeed.class);
    private static final long MIN_BACKOFF_MS = 200;
    private static final long MAX_BACKOFF_MS = 10_000;

    /** A detection event with the feed's sequence number, which the page polls from. */
    public record Item(long seq, DetectionEvent event, boolean hasImage) {}

    /** An image's bytes and media type. */
    public record Image(byte[] data, String mediaType) {}

    private final String detectionsTopic;
    private final String imagesTopic;
    private final Deserializer<DetectionEvent> detections;
    private final Deserializer<ImageEvent> images;
    private final int maxEvents;
    private final long maxImageBytes;
    private final Consumer<String, byte[]> consumer;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final CountDownLatch stopping = new CountDownLatch(1);
    private final Health.Component health;
    private final Thread thread;

    private final Deque<Item> recent = new ArrayDeque<>();
    private final LinkedHashMap<String, Image> recentImages = new LinkedHashMap<>();
    private long imageBytes;
    private long nextSeq = 1;

    public LiveFeed(Map<String, Object> kafkaConfig, String detectionsTopic, String imagesTopic,
                    Deserializer<DetectionEvent> detections, Deserializer<ImageEvent> images, int maxEvents, long maxImageBytes,
                    Health.Component health) {
        this(kafkaConfig, detectionsTopic, imagesTopic, detections, images, maxEvents, maxImageBytes, health,
                props -> new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer()));
    }

    /** As above, with the consumer made by {@code consumers} from the final properties (tests put a fault in it). */
    public LiveFeed(Map<String, Object> kafkaConfig, String detectionsTopic, String imagesTopic,
                    Deserializer<DetectionEvent> detections, Deserializer<ImageEvent> images, int maxEvents, long maxImageBytes,
                    Health.Component health, Function<Map<String, Object>, Consumer<String, byte[]>> consumers) {
        this.health = health;
        this.detectionsTopic = detectionsTopic;
        this.imagesTopic = imagesTopic;
        this.detections = detections;
        this.images = images;
        this.maxEvents = maxEvents;
        this.maxImageBytes = maxImageBytes;
        Map<String, Object> props = new HashMap<>(kafkaConfig);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "exemplar-registry-live");
        this.consumer = consumers.apply(props);
        this.thread = new Thread(this::run, "live-feed");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    private void run() {
        long nextTopicCheck = 0;
        long backoffMs = MIN_BACKOFF_MS;
        Set<TopicPartition> assigned = new HashSet<>();
        try {
            while (running.get()) {
                try {
                    if (System.currentTimeMillis() >= nextTopicCheck) {
                        assignNewPartitions(assigned);
                        nextTopicCheck = System.currentTimeMillis() + 1_000;
                    }
                    if (assigned.isEmpty()) {
                        health.ok();
                        if (pause(200)) {
                            break;
                        }
                        continue;
                    }
                    String undecodable = null;
                    for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(300))) {
                        String problem = accept(record);
                        undecodable = problem != null ? problem : undecodable;
                    }
                    if (undecodable == null) {
                        health.ok();
                    } else {
                        health.failing(undecodable);
                    }
                    backoffMs = MIN_BACKOFF_MS;
                } catch (WakeupException | InterruptException e) {
                    // close() asked us to stop: the loop condition decides.
                } catch (RuntimeException e) {
                    health.failing("the live feed cannot read " + detectionsTopic + "/" + imagesTopic + ": " + e + "; retrying");
                    log.warn("the live feed failed, retrying in {} ms: {}", backoffMs, e.toString());
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

    /** Waits {@code millis}; true when the feed is being closed. */
    private boolean pause(long millis) {
        try {
            return stopping.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }

    private void assignNewPartitions(Set<TopicPartition> assigned) {
        Map<String, List<PartitionInfo>> topics = consumer.listTopics(Duration.ofSeconds(5));
        List<TopicPartition> fresh = new ArrayList<>();
        for (String topic : List.of(detectionsTopic, imagesTopic)) {
            for (PartitionInfo p : topics.getOrDefault(topic, List.of())) {
                TopicPartition tp = new TopicPartition(topic, p.partition());
                if (!assigned.contains(tp)) {
                    fresh.add(tp);
                }
            }
        }
        if (fresh.isEmpty()) {
            return;
        }
        Set<TopicPartition> all = new HashSet<>(assigned);
        all.addAll(fresh);
        consumer.assign(all);
        Map<TopicPartition, Long> begin = consumer.beginningOffsets(fresh);
        Map<TopicPartition, Long> end = consumer.endOffsets(fresh);
        for (TopicPartition tp : fresh) {
            consumer.seek(tp, Math.max(begin.get(tp), end.get(tp) - maxEvents));
        }
        assigned.addAll(fresh); // only once positioned: a failure above makes the next round position them again
        log.info("live feed reads {}", fresh);
    }

    /** Takes one record into the feed; returns why it could not, when the reason may pass (else null). */
    private String accept(ConsumerRecord<String, byte[]> record) {
        if (record.value() == null) {
            return null;
        }
        try {
            if (record.topic().equals(detectionsTopic)) {
                DetectionEvent event = detections.deserialize(record.topic(), record.value());
                synchronized (this) {
                    recent.addLast(new Item(nextSeq++, event, false));
                    while (recent.size() > maxEvents) {
                        recent.removeFirst();
                    }
                }
            } else {
                ImageEvent event = images.deserialize(record.topic(), record.value());
                if (event.getImage() instanceof InlineImage inline) {
                    ByteBuffer buffer = inline.getData().duplicate();
                    byte[] data = new byte[buffer.remaining()];
                    buffer.get(data);
                    putImage(event.getEventId(), new Image(data, inline.getMediaType()));
                }
            }
        } catch (SchemaRegistryUnavailableException e) {
            log.warn("live feed skipped {}-{}@{}: {}", record.topic(), record.partition(), record.offset(), e.toString());
            return "the live feed cannot decode records: " + e.getMessage();
        } catch (RuntimeException e) {
            log.warn("live feed skipped {}-{}@{}: {}", record.topic(), record.partition(), record.offset(), e.toString());
        }
        return null;
    }

    private synchronized void putImage(String eventId, Image image) {
        if (image.data().length > maxImageBytes) {
            return;
        }
        Image old = recentImages.remove(eventId);
        if (old != null) {
            imageBytes -= old.data().length;
        }
        recentImages.put(eventId, image);
        imageBytes += image.data().length;
        Iterator<Image> oldest = recentImages.values().iterator();
        while ((imageBytes > maxImageBytes || recentImages.size() > 2 * maxEvents) && oldest.hasNext()) {
            imageBytes -= oldest.next().data().length;
            oldest.remove();
        }
    }

    /** Detection events with a sequence number above {@code afterSeq}, oldest first. */
    public synchronized List<Item> since(long afterSeq) {
        List<Item> out = new ArrayList<>();
        for (Item item : recent) {
            if (item.seq() > afterSeq) {
                out.add(new Item(item.seq(), item.event(), recentImages.containsKey(item.event().getEventId())));
            }
        }
        return out;
    }

    /** The most recent detection event for {@code eventId} still in the feed. */
    public synchronized Optional<DetectionEvent> event(String eventId) {
        Iterator<Item> newest = recent.descendingIterator();
        while (newest.hasNext()) {
            DetectionEvent event = newest.next().event();
            if (event.getEventId().equals(eventId)) {
                return Optional.of(event);
            }
        }
        return Optional.empty();
    }

    /** How many detection events the feed keeps (older ones, and their images, are gone). */
    public int capacity() {
        return maxEvents;
    }

    public synchronized Optional<Image> image(String eventId) {
        return Optional.ofNullable(recentImages.get(eventId));
    }

    @Override
    public void close() {
        running.set(false);
        stopping.countDown();
        if (!thread.isAlive()) {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
            return;
        }
        consumer.wakeup();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
