package dev.mqdet.streams.detect;

import dev.mqdet.events.DeadLetter;
import dev.mqdet.events.ExemplarEmbedding;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.schemaregistry.SchemaRegistryUnavailableException;
import dev.mqdet.serde.SerdeException;
import dev.mqdet.streams.DeadLetters;
import dev.mqdet.streams.DeadLetters.Origin;
import dev.mqdet.streams.detect.EventBuffer.JoinLimits;
import dev.mqdet.streams.detect.InferenceRunner.Finished;
import dev.mqdet.topics.EventIds;
import dev.mqdet.topics.LogSafe;
import java.time.Duration;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batched MQ-Det inference inside a Kafka Streams processor, one walk per record:
 *
 * <ol>
 *   <li><b>read</b>: decode the Avro value and check the event id; a bad record is dead-lettered at once;</li>
 *   <li><b>buffer</b>: write it to the changelogged buffer ({@link EventBuffer}), where it stays until answered;
 *       when the instance's buffers are full ({@link BufferBudget}) it is dead-lettered instead;</li>
 *   <li><b>join</b>: find its query set, encoded for this model ({@link QuerySets}); an event whose query set is
 *       not there yet waits for it, up to a limit;</li>
 *   <li><b>dispatch</b>: start batches as the {@link DispatchPolicy} says (by default as soon as a predictor is
 *       free) on the task's inference workers ({@link InferenceRunner}, {@link BatchDetector});</li>
 *   <li><b>answer</b>: forward finished batches in the order they were formed, a detection event or a dead letter
 *       per event, and delete each event from the buffer in the same step.</li>
 * </ol>
 *
 * <p>Why batches cannot lose events: Kafka Streams commits input offsets, the buffer's changelog and the output
 * records together (one transaction under {@code exactly_once_v2}), and an event leaves the buffer only in the step
 * that forwards its answer; after a crash the committed offsets and the restored buffer agree. Results of running
 * jobs are picked up on the next record or tick; the stream thread waits for a job only when a full batch has no
 * slot, and then at most {@code mqdet.batch.max-block-ms}.
 *
 * <p>Bad input never stops the partition: every failure of one record goes to the dead-letter topic with its stage.
 * A schema registry that cannot be reached is not bad input: that error propagates, the stream thread is replaced
 * and the records are retried from the last commit.
 */
public final class BatchedDetectionProcessor implements Processor<byte[], byte[], Object, Object> {

    public static final String BUFFER_STORE = "image-batch-buffer";
    public static final String DETECTIONS_SINK = "detections-sink";
    public static final String DLQ_SINK = "images-dlq-sink";
    private static final Logger log = LoggerFactory.getLogger(BatchedDetectionProcessor.class);

    private final DetectorSettings settings;
    private final String embeddingsStore;
    private final BatchDetector detector;
    private final JoinLimits joinLimits;
    private ProcessorContext<Object, Object> context;
    private ReadOnlyKeyValueStore<String, ExemplarEmbedding> embeddings;
    private EventBuffer buffer;
    private InferenceRunner runner;
    private DispatchPolicy policy;

    public BatchedDetectionProcessor(DetectorSettings settings, String embeddingsStore) {
        this.settings = settings;
        this.embeddingsStore = embeddingsStore;
        this.detector = new BatchDetector(settings.model, settings.imageSource, settings.metrics, settings.decodeGate);
        this.joinLimits = new JoinLimits(settings.unknownQuerySetWaitMs, settings.maxWaitingForQuerySet, settings.maxCategories);
    }

    @Override
    public void init(ProcessorContext<Object, Object> context) {
        this.context = context;
        this.embeddings = context.getStateStore(embeddingsStore);
        this.buffer = new EventBuffer(context.getStateStore(BUFFER_STORE), settings.bufferBudget);
        int restored = buffer.restore(buffered -> {
            ImageEvent event = settings.images.deserialize(buffered.origin().topic(), buffered.value());
            InlineImageView.share(event, buffered.value());
            return event;
        });
        if (restored > 0) {
            log.info("task {}: {} buffered image events restored", context.taskId(), restored);
        }
        int predictors = settings.model.predictors();
        // Pipelined: one batch more than predictors, decoded and waiting when a predictor frees up.
        int maxInFlight = settings.pipelined ? predictors + 1 : 1;
        this.runner = new InferenceRunner("mqdet-inference-" + context.taskId(), settings.pipelined ? maxInFlight : 0);
        this.policy = new DispatchPolicy(settings.dispatch, settings.pipelined ? predictors : 1, maxInFlight, settings.batchSize, settings.maxWaitMs);
        // Short when pipelined: the tick also forwards finished jobs when no record comes.
        long tick = Math.max(5, Math.min(settings.maxWaitMs / 2, settings.pipelined ? 10 : 1_000));
        context.schedule(Duration.ofMillis(tick), PunctuationType.WALL_CLOCK_TIME, this::onTick);
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        settings.metrics.eventIn();
        answerFinished();
        Origin origin = context.recordMetadata().map(Origin::of).orElse(new Origin("?", -1, -1));
        ImageEvent event = read(origin, record);
        if (event == null) {
            return;
        }
        long now = context.currentSystemTimeMs(); // the clock punctuations use (mockable in tests)
        try {
            buffer.add(origin, record.timestamp(), now, record.key(), record.value(), event);
        } catch (BufferBudget.BufferFullException full) {
            deadLetter(origin, record.key(), record.value(), event.getEventId(), "buffer", full);
            return;
        }
        buffer.joinArrivals(now, this::lookup, joinLimits, this::refuse);
        dispatch(now);
    }

    private void onTick(long now) {
        answerFinished();
        buffer.joinArrivals(now, this::lookup, joinLimits, this::refuse); // events restored at init
        buffer.joinWaiting(now, this::lookup, joinLimits, this::refuse);
        dispatch(now);
    }

    /** The decoded, valid event; or null after dead-lettering the record. */
    private ImageEvent read(Origin origin, Record<byte[], byte[]> record) {
        ImageEvent event;
        try {
            event = settings.images.deserialize(origin.topic(), record.value());
            if (event == null) {
                throw new SerdeException("image event has no value (null record)");
            }
            InlineImageView.share(event, record.value()); // the image held once while buffered
        } catch (SchemaRegistryUnavailableException transientFailure) {
            throw transientFailure; // not the record's fault: retried after the thread restarts
        } catch (RuntimeException e) {
            deadLetter(origin, record.key(), record.value(), null, "deserialize", e);
            return null;
        }
        String problem = EventIds.problem(event.getEventId());
        if (problem != null) {
            deadLetter(origin, record.key(), record.value(), null, "validate", new InvalidImageEventException(problem));
            return null;
        }
        return event;
    }

    private QuerySets.QuerySet lookup(String querySetId) {
        return settings.querySets.lookup(embeddings, querySetId);
    }

    /** Starts every batch the policy allows now; waits (bounded) for a slot when a full batch has none. */
    private void dispatch(long now) {
        while (true) {
            boolean fullBatch = buffer.hasFullBatch(policy.batchSize());
            if (policy.startNow(buffer.readyCount(), fullBatch, now - buffer.oldestReadyAtMs(), runner.inFlight())) {
                runner.submit(buffer.take(policy.batchSize(), now), detector::detect);
                settings.metrics.batchesStarted(1);
                answerFinished(); // at once when it ran on the stream thread (mqdet.batch.pipelined=false)
            } else if (policy.mustWaitForSlot(fullBatch, runner.inFlight())) {
                Finished oldest = runner.awaitOldest(settings.maxStreamThreadBlockMs);
                if (oldest == null) {
                    return; // still running: back to Kafka (commits, polls); the batch waits for the next record or tick
                }
                answer(oldest);
            } else {
                return;
            }
        }
    }

    private void answerFinished() {
        for (Finished finished : runner.takeFinished()) {
            answer(finished);
        }
    }

    /** Forwards a finished batch's detection events and dead letters; its events leave the buffer in this step. */
    private void answer(Finished finished) {
        settings.metrics.batchesEnded(1);
        for (Outcome outcome : finished.outcomes()) {
            Pending pending = outcome.pending();
            if (outcome.error() != null) {
                refuse(pending, outcome.stage(), outcome.error());
            } else {
                context.forward(new Record<>(outcome.detection().getEventId(), outcome.detection(), pending.buffered().timestampMs()), DETECTIONS_SINK);
                settings.metrics.eventOut(pending.buffered().timestampMs());
                buffer.answered(pending);
            }
        }
        if (settings.commitOnAnswer && buffer.isEmpty()) {
            // At the stream thread's next chance, not at the next commit interval. Only once the buffer has drained:
            // a commit then writes the buffer's changelog as tombstones alone, never a second copy of images still
            // waiting, and under load (the buffer never drains) commits stay at commit.interval.ms.
            context.commit();
        }
    }

    /** Dead-letters a buffered event and removes it from the buffer. */
    private void refuse(Pending pending, String stage, Exception error) {
        BufferedImageEvent buffered = pending.buffered();
        deadLetter(buffered.origin(), buffered.key(), buffered.value(), pending.event().getEventId(), stage, error);
        buffer.answered(pending);
    }

    private void deadLetter(Origin origin, byte[] key, byte[] value, String eventId, String stage, Exception error) {
        DeadLetter letter = DeadLetters.of(origin, key, value, eventId, stage, error);
        log.warn("dead letter from {}-{}@{} at {}: {}", LogSafe.quote(origin.topic(), 255), origin.partition(), origin.offset(), stage,
                LogSafe.quote(letter.getErrorMessage(), 500));
        context.forward(new Record<>(key, letter, System.currentTimeMillis()), DLQ_SINK);
        settings.metrics.deadLetter(stage);
    }

    @Override
    public void close() {
        if (runner != null) {
            // Results of jobs still running are dropped: their events are in the buffer, so nothing is lost.
            settings.metrics.batchesEnded(runner.inFlight());
            runner.close();
        }
        if (buffer != null) {
            buffer.releaseBudget();
        }
    }
}
