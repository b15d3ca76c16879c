package dev.mqdet.streams.detect;

import dev.mqdet.events.BoundingBox;
import dev.mqdet.events.DeadLetter;
import dev.mqdet.events.Detection;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ExemplarEmbedding;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.Timings;
import dev.mqdet.inference.ImageDecoder.PreparedImage;
import dev.mqdet.inference.InferenceException;
import dev.mqdet.inference.MqDetModel;
import dev.mqdet.schemaregistry.SchemaRegistryUnavailableException;
import dev.mqdet.serde.SerdeException;
import dev.mqdet.streams.DeadLetters;
import dev.mqdet.streams.DeadLetters.Origin;
import dev.mqdet.streams.detect.QuerySets.QuerySet;
import dev.mqdet.streams.ops.PipelineMetrics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batched MQ-Det inference inside a Kafka Streams processor.
 *
 * <p><b>Why batches cannot lose events.</b> Records are not held in memory: each image event is written to a
 * changelogged state store (the buffer) as it arrives, and removed only in the same processing step that
 * forwards its detection event or dead letter. Kafka Streams commits input offsets, store changelog and output
 * records together (one transaction under {@code exactly_once_v2}), so after a crash the committed offsets and
 * the restored buffer agree: an event whose offset was committed is either still in the buffer (and is detected
 * after restart) or its output was committed with it. The store is cached (see {@code DetectionTopology}), so an
 * event answered before the next commit costs the changelog a tombstone, not a copy of its image. A batch runs
 * when {@code mqdet.batch.size} events wait, or when the oldest has waited {@code mqdet.batch.max-wait-ms} (a
 * wall-clock punctuation).
 *
 * <p><b>Pipelined.</b> With {@code mqdet.batch.pipelined} (the default) batches run on worker threads of the
 * task while the stream thread goes on polling, deserialising and buffering the next one, so the Kafka work and
 * the commits overlap with inference instead of leaving cores idle between batches. A task keeps one batch more
 * in flight than the model has predictors ({@code mqdet.model.predictors}): one partition alone keeps every
 * predictor busy, and the extra batch is decoded and waiting when a predictor frees up, so the next forward does
 * not wait for the stream thread (busy committing, say). A full batch waits for the oldest job when that many
 * run, which bounds the buffer. Only the stream thread forwards and touches the stores: results are picked up on
 * the next record, tick or flush, in the order the batches were formed.
 *
 * <p>Bad input never stops the partition: undecodable records, refused images, unknown or unusable query sets
 * go to the dead-letter topic with the original bytes. A schema registry that cannot be reached is not bad
 * input: that error propagates, the stream thread is replaced and the records are retried from the last commit.
 */
public final class BatchedDetectionProcessor implements Processor<byte[], byte[], Object, Object> {

    public static final String BUFFER_STORE = "image-batch-buffer";
    public static final String DETECTIONS_SINK = "detections-sink";
    public static final String DLQ_SINK = "images-dlq-sink";
    private static final Logger log = LoggerFactory.getLogger(BatchedDetectionProcessor.class);

    /** Everything the processor needs, shared by all its instances (one per task). */
    public record Settings(MqDetModel model, Deserializer<ImageEvent> images, ImageSource imageSource, String embeddingsStore,
                           int batchSize, long maxWaitMs, long unknownQuerySetWaitMs, int maxCategories, boolean pipelined,
                           PipelineMetrics metrics) {}

    private final Settings settings;
    private ProcessorContext<Object, Object> context;
    private KeyValueStore<Long, BufferedImageEvent> buffer;
    private QuerySets querySets;
    private long nextSequence;
    private int buffered;
    private long oldestBufferedAt = Long.MAX_VALUE;
    /** Events decoded on arrival, by buffer sequence, so a batch does not decode them again; empty after a restart. */
    private final Map<Long, ImageEvent> decoded = new HashMap<>();
    /** Runs this task's inference jobs when pipelined, so the stream thread reads the next batch meanwhile; else null. */
    private ExecutorService worker;
    /** Most jobs this task has in flight: predictors + 1 when pipelined, else one (run on the stream thread). */
    private int maxInFlight = 1;
    /** This task's inference jobs in flight, oldest first: their results are forwarded in this order. */
    private final Deque<Job> inFlight = new ArrayDeque<>();
    /** Buffer sequences of the events in those jobs: in the buffer until answered, but not to be batched again. */
    private final Set<Long> running = new HashSet<>();

    public BatchedDetectionProcessor(Settings settings) {
        this.settings = settings;
    }

    @Override
    public void init(ProcessorContext<Object, Object> context) {
        this.context = context;
        this.buffer = context.getStateStore(BUFFER_STORE);
        ReadOnlyKeyValueStore<String, ExemplarEmbedding> embeddings = context.getStateStore(settings.embeddingsStore());
        this.querySets = new QuerySets(embeddings, settings.model().modelId());
        // After a restart the buffer holds what was accepted but not yet answered: carry on where it left off.
        try (KeyValueIterator<Long, BufferedImageEvent> it = buffer.all()) {
            while (it.hasNext()) {
                KeyValue<Long, BufferedImageEvent> entry = it.next();
                nextSequence = Math.max(nextSequence, entry.key + 1);
                buffered++;
                oldestBufferedAt = Math.min(oldestBufferedAt, entry.value.bufferedAtMs());
            }
        }
        if (buffered > 0) {
            log.info("task {}: {} buffered image events restored", context.taskId(), buffered);
        }
        if (settings.pipelined()) {
            maxInFlight = settings.model().predictors() + 1;
            String name = "mqdet-inference-" + context.taskId() + "-";
            AtomicInteger threadNumber = new AtomicInteger();
            worker = Executors.newFixedThreadPool(maxInFlight, runnable -> {
                Thread thread = new Thread(runnable, name + threadNumber.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            });
        }
        // Short when pipelined: the tick also forwards a finished job's results when no new record comes.
        long tick = Math.max(5, Math.min(settings.maxWaitMs() / 2, settings.pipelined() ? 20 : 1_000));
        context.schedule(Duration.ofMillis(tick), PunctuationType.WALL_CLOCK_TIME, this::onTick);
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        settings.metrics().eventIn();
        completeIfDone();
        Origin origin = context.recordMetadata().map(Origin::of).orElse(new Origin("?", -1, -1));
        ImageEvent event;
        try {
            event = settings.images().deserialize(origin.topic(), record.value());
            if (event == null) {
                throw new SerdeException("image event has no value (null record)");
            }
        } catch (SchemaRegistryUnavailableException transientFailure) {
            throw transientFailure; // not the record's fault: retried after the thread restarts
        } catch (RuntimeException e) {
            deadLetter(origin, record.key(), record.value(), null, "deserialize", e);
            return;
        }
        long now = context.currentSystemTimeMs(); // the stream time source punctuations use (mockable in tests)
        decoded.put(nextSequence, event);
        buffer.put(nextSequence++, new BufferedImageEvent(origin, record.timestamp(), now, record.key(), record.value()));
        buffered++;
        oldestBufferedAt = Math.min(oldestBufferedAt, now);
        if (buffered >= settings.batchSize()) {
            flush(now);
        }
    }

    private void onTick(long now) {
        completeIfDone();
        // While every job slot is taken, a partial batch waits on: it could not start sooner anyway, and more
        // events may join it.
        if (inFlight.size() < maxInFlight && buffered > 0 && now - oldestBufferedAt >= settings.maxWaitMs()) {
            flush(now);
        }
    }

    /**
     * Hands every buffered event that can be answered now to the inference workers, in batches per query set.
     * At most {@code maxInFlight} jobs run per task: a batch first waits for the oldest job and forwards its
     * results when that many run, which is the back-pressure that keeps the buffer to a few batches.
     */
    private void flush(long now) {
        Map<String, List<Pending>> byQuerySet = new LinkedHashMap<>();
        long stillWaitingSince = Long.MAX_VALUE;
        int stillWaiting = 0;
        Map<String, QuerySet> lookedUp = new HashMap<>(); // one consistent view per query set per flush
        List<Long> answered = new ArrayList<>();
        try (KeyValueIterator<Long, BufferedImageEvent> it = buffer.all()) {
            while (it.hasNext()) {
                KeyValue<Long, BufferedImageEvent> entry = it.next();
                if (running.contains(entry.key)) {
                    continue;
                }
                BufferedImageEvent buffered = entry.value;
                ImageEvent event = decoded.get(entry.key);
                if (event == null) { // restored from the changelog after a restart
                    event = settings.images().deserialize(buffered.origin().topic(), buffered.value());
                }
                QuerySet querySet = lookedUp.computeIfAbsent(event.getQuerySetId(), querySets::lookup);
                if (querySet.categories().isEmpty() && now - buffered.bufferedAtMs() < settings.unknownQuerySetWaitMs()) {
                    stillWaiting++; // its query set may be on its way: wait up to mqdet.query-set.unknown-wait-ms
                    stillWaitingSince = Math.min(stillWaitingSince, buffered.bufferedAtMs());
                    continue;
                }
                if (querySet.categories().isEmpty()) {
                    answered.add(entry.key);
                    deadLetter(buffered, event, "join", new UnknownQuerySetException("no categories registered for query set '"
                            + event.getQuerySetId() + "' (model " + settings.model().modelId() + ")"));
                } else if (querySet.categories().size() > settings.maxCategories()) {
                    answered.add(entry.key);
                    deadLetter(buffered, event, "join", new UnknownQuerySetException("query set '" + event.getQuerySetId() + "' has "
                            + querySet.categories().size() + " categories, above mqdet.query-set.max-categories " + settings.maxCategories()));
                } else {
                    byQuerySet.computeIfAbsent(event.getQuerySetId(), id -> new ArrayList<>()).add(new Pending(entry.key, buffered, event, querySet));
                }
            }
        }
        answered.forEach(this::forget);
        buffered = stillWaiting;
        oldestBufferedAt = stillWaitingSince;
        List<List<Pending>> batches = new ArrayList<>();
        for (List<Pending> group : byQuerySet.values()) {
            for (int from = 0; from < group.size(); from += settings.batchSize()) {
                batches.add(group.subList(from, Math.min(from + settings.batchSize(), group.size())));
            }
        }
        // The events stay in the buffer (and reach the changelog at the next commit) until their results are
        // forwarded, so a crash or a rebalance while a job runs loses nothing: the next owner detects them again.
        for (List<Pending> batch : batches) {
            while (inFlight.size() >= maxInFlight) {
                complete(inFlight.poll());
            }
            Callable<List<Outcome>> job = () -> detect(batch, now);
            List<Long> sequences = batch.stream().map(Pending::sequence).toList();
            running.addAll(sequences);
            inFlight.add(new Job(worker == null ? completed(job) : worker.submit(job), sequences));
            settings.metrics().batchesStarted(1);
            completeIfDone(); // at once when it ran on the stream thread (mqdet.batch.pipelined=false)
        }
    }

    /** Forwards the results of the finished jobs at the head of the queue (a later job waits for an earlier one). */
    private void completeIfDone() {
        while (!inFlight.isEmpty() && inFlight.peek().result().isDone()) {
            complete(inFlight.poll());
        }
    }

    /** Waits for {@code job}, forwards its detection events and dead letters, and removes its events from the buffer. */
    private void complete(Job job) {
        List<Outcome> outcomes;
        try {
            outcomes = job.result().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for inference", e);
        } catch (ExecutionException e) { // a bug, not bad input: the stream thread fails and the events are retried
            throw new IllegalStateException("inference job failed", e.getCause());
        } finally {
            running.removeAll(job.sequences());
            settings.metrics().batchesEnded(1);
        }
        for (Outcome outcome : outcomes) {
            Pending pending = outcome.pending();
            if (outcome.error() != null) {
                deadLetter(pending.buffered(), pending.event(), outcome.stage(), outcome.error());
            } else {
                context.forward(new Record<>(outcome.detection().getEventId(), outcome.detection(), pending.buffered().timestampMs()), DETECTIONS_SINK);
                settings.metrics().eventOut();
            }
            forget(pending.sequence());
        }
    }

    private void forget(long sequence) {
        buffer.delete(sequence);
        decoded.remove(sequence);
    }

    /** One batch through the model, on the inference worker: touches neither the context nor the stores. */
    private List<Outcome> detect(List<Pending> batch, long flushStartedAt) {
        List<Outcome> outcomes = new ArrayList<>(batch.size());
        List<Pending> ready = new ArrayList<>(batch.size());
        List<PreparedImage> images = new ArrayList<>(batch.size());
        for (Pending pending : batch) {
            try {
                images.add(settings.model().decoder().prepare(settings.imageSource().bytes(pending.event())));
                ready.add(pending);
            } catch (InferenceException | ImageSource.ImageFetchException e) {
                outcomes.add(Outcome.failed(pending, e instanceof ImageSource.ImageFetchException ? "fetch" : "decode", e));
            }
        }
        if (ready.isEmpty()) {
            return outcomes;
        }
        QuerySet querySet = ready.get(0).querySet();
        MqDetModel.BatchDetections result;
        try {
            result = settings.model().detectBatch(images, querySet.categories());
        } catch (InferenceException e) {
            ready.forEach(p -> outcomes.add(Outcome.failed(p, "inference", e)));
            return outcomes;
        }
        List<List<dev.mqdet.inference.Detection>> found = result.perImage();
        long inferenceMs = result.modelTime().toMillis(); // the model's own time, not the wait for a free predictor
        settings.metrics().batch(ready.size(), inferenceMs);
        for (int i = 0; i < ready.size(); i++) {
            Pending pending = ready.get(i);
            PreparedImage image = images.get(i);
            DetectionEvent detection = DetectionEvent.newBuilder()
                    .setEventId(pending.event().getEventId())
                    .setSource(pending.event().getSource())
                    .setQuerySetId(querySet.querySetId())
                    .setQuerySetVersion(querySet.version())
                    .setModelId(settings.model().modelId())
                    .setImageWidth(image.width())
                    .setImageHeight(image.height())
                    .setDetections(found.get(i).stream().map(BatchedDetectionProcessor::toEvent).toList())
                    .setTimings(new Timings(Math.max(0, flushStartedAt - pending.buffered().timestampMs()), inferenceMs, ready.size()))
                    .setAttributes(pending.event().getAttributes())
                    .setDetectedAtMs(Instant.now())
                    .build();
            outcomes.add(new Outcome(pending, detection, null, null));
        }
        return outcomes;
    }

    private static <T> Future<T> completed(Callable<T> job) {
        try {
            return CompletableFuture.completedFuture(job.call());
        } catch (Exception e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public void close() {
        if (worker != null) {
            // Results of a job still running are dropped: its events are in the buffer, so nothing is lost.
            settings.metrics().batchesEnded(inFlight.size());
            inFlight.clear();
            worker.shutdownNow();
            try {
                if (!worker.awaitTermination(60, TimeUnit.SECONDS)) {
                    log.warn("task {}: inference worker did not stop in 60 s", context.taskId());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A model detection as the {@code detections} topic carries it. */
    public static Detection toEvent(dev.mqdet.inference.Detection d) {
        return new Detection(d.categoryId(), d.label(), d.score(), new BoundingBox(d.box().x1(), d.box().y1(), d.box().x2(), d.box().y2()));
    }

    private void deadLetter(BufferedImageEvent buffered, ImageEvent event, String stage, Exception error) {
        deadLetter(buffered.origin(), buffered.key(), buffered.value(), event == null ? null : event.getEventId(), stage, error);
    }

    private void deadLetter(Origin origin, byte[] key, byte[] value, String eventId, String stage, Exception error) {
        DeadLetter letter = DeadLetters.of(origin, key, value, eventId, stage, error);
        log.warn("dead letter from {}-{}@{} at {}: {}", origin.topic(), origin.partition(), origin.offset(), stage, letter.getErrorMessage());
        context.forward(new Record<>(key, letter, System.currentTimeMillis()), DLQ_SINK);
        settings.metrics().deadLetter(stage);
    }

    /** One batch handed to a worker: its result, and the buffer sequences of its events. */
    private record Job(Future<List<Outcome>> result, List<Long> sequences) {}

    /** An image event whose query set is known, waiting for its batch. */
    private record Pending(long sequence, BufferedImageEvent buffered, ImageEvent event, QuerySet querySet) {}

    /** What became of one pending event: a detection event, or the stage and error of its dead letter. */
    private record Outcome(Pending pending, DetectionEvent detection, String stage, Exception error) {
        static Outcome failed(Pending pending, String stage, Exception error) {
            return new Outcome(pending, null, stage, error);
        }
    }

    /** The image event names a query set with no categories (for this model), or one too large to run. */
    public static final class UnknownQuerySetException extends RuntimeException {
        public UnknownQuerySetException(String message) {
            super(message);
        }
    }
}
