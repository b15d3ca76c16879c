package dev.mqdet.registry.store;

import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.registry.validation.RefusedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes records to the exemplar-queries topic, each call one Kafka transaction: all its records become visible to
 * read_committed consumers together, or none do. That makes a rename (new keys plus tombstones) atomic, and makes a
 * refused or failed write leave nothing behind.
 *
 * <p>The producer is idempotent with {@code acks=all}. Its transactional id doubles as a single-writer guard: a second
 * registry started with the same id fences this one, whose writes then fail loudly instead of racing.
 */
public final class TopicWriter implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TopicWriter.class);

    /** One record to write; a null value is a tombstone. */
    public record Write(String key, ExemplarQuery value) {}

    private final String topic;
    private final Map<String, Object> producerConfig;
    private final Serializer<ExemplarQuery> values;
    private final int maxRecordBytes;
    private KafkaProducer<String, ExemplarQuery> producer;

    public TopicWriter(Map<String, Object> kafkaConfig, String topic, String transactionalId, Serializer<ExemplarQuery> values, int maxRecordBytes) {
        this.topic = topic;
        this.values = values;
        this.maxRecordBytes = maxRecordBytes;
        Map<String, Object> props = new HashMap<>(kafkaConfig);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, maxRecordBytes);
        props.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
        props.putIfAbsent(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        props.putIfAbsent(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
        props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 0);
        props.putIfAbsent(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none"); // JPEG and PNG do not compress
        props.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "exemplar-registry-writer");
        this.producerConfig = props;
        this.producer = newProducer();
    }

    private KafkaProducer<String, ExemplarQuery> newProducer() {
        KafkaProducer<String, ExemplarQuery> p = new KafkaProducer<>(producerConfig, new StringSerializer(), values);
        try {
            p.initTransactions();
        } catch (RuntimeException e) {
            p.close(Duration.ZERO);
            throw new StoreUnavailableException("could not start a transactional producer on " + producerConfig.get("bootstrap.servers") + ": " + e.getMessage(), e);
        }
        return p;
    }

    /**
     * Writes {@code writes} in one transaction and returns each record's offset, in order. Not thread-safe by design:
     * a producer runs one transaction at a time, and the caller serialises writes anyway.
     *
     * @throws RefusedException          413 when a record is larger than the producer or the topic allows
     * @throws StoreUnavailableException when Kafka or the Schema Registry failed; nothing was written
     */
    public List<Long> commit(List<Write> writes) {
        if (producer == null) {
            producer = newProducer();
        }
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try {
            producer.beginTransaction();
            for (Write w : writes) {
                sent.add(producer.send(new ProducerRecord<>(topic, w.key(), w.value())));
            }
            producer.commitTransaction();
            List<Long> offsets = new ArrayList<>();
            for (Future<RecordMetadata> f : sent) {
                offsets.add(f.get().offset());
            }
            return offsets;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abortOrReset(e);
            throw new StoreUnavailableException("interrupted while writing", e);
        } catch (ExecutionException | RuntimeException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            RecordTooLargeException tooLarge = findTooLarge(cause, sent);
            abortOrReset(cause);
            if (tooLarge != null) {
                throw RefusedException.tooLarge("exemplars", "the category's record is larger than the topic accepts (at most "
                        + maxRecordBytes + " bytes here, or less if the topic's max.message.bytes is lower): use fewer or smaller exemplar images");
            }
            if (cause instanceof RefusedException r) {
                throw r;
            }
            throw new StoreUnavailableException("could not write to " + topic + ": " + cause, cause);
        }
    }

    private static RecordTooLargeException findTooLarge(Throwable cause, List<Future<RecordMetadata>> sent) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof RecordTooLargeException r) {
                return r;
            }
        }
        for (Future<RecordMetadata> f : sent) {
            if (f.isDone()) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RecordTooLargeException r) {
                        return r;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException ignored) {
                    // Cancelled: not a size problem.
                }
            }
        }
        return null;
    }

    /** Aborts the open transaction; after a fatal error (fenced, out of sequence) the producer is replaced instead. */
    private void abortOrReset(Throwable cause) {
        boolean fatal = cause instanceof ProducerFencedException || cause instanceof OutOfOrderSequenceException
                || cause instanceof AuthorizationException || cause instanceof UnsupportedVersionException;
        if (!fatal) {
            try {
                producer.abortTransaction();
                return;
            } catch (KafkaException e) {
                log.warn("could not abort the transaction; replacing the producer", e);
            }
        } else {
            log.error("fatal producer error; replacing the producer (another registry with the same transactional id?)", cause);
        }
        producer.close(Duration.ofSeconds(5));
        producer = null;
    }

    @Override
    public void close() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5)); // with the readers' 5 s each, a SIGTERM ends well within 30 s
        }
    }
}
