package dev.mqdet.streams.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** The pipeline's own meters; Kafka Streams' metrics are bound beside them. Names follow Prometheus conventions once exported. */
public final class PipelineMetrics {

    private final MeterRegistry registry;
    private final Counter eventsIn;
    private final Counter eventsOut;
    private final Counter exemplarsEncoded;
    private final Counter embeddingsSkipped;
    private final Timer inference;
    private final Timer endToEnd;
    private final DistributionSummary batchSize;
    private final AtomicInteger batchesInFlight = new AtomicInteger();

    public PipelineMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.eventsIn = Counter.builder("mqdet.events.in").description("Image events read").register(registry);
        this.eventsOut = Counter.builder("mqdet.events.out").description("Detection events written").register(registry);
        this.exemplarsEncoded = Counter.builder("mqdet.exemplars.encoded").description("Exemplar queries encoded").register(registry);
        this.embeddingsSkipped = Counter.builder("mqdet.exemplar.embeddings.skipped")
                .description("Records on exemplar-embeddings that did not decode and were left out of the global store").register(registry);
        this.inference = Timer.builder("mqdet.inference").description("Model time per batch")
                .publishPercentiles(0.5, 0.95, 0.99).register(registry);
        this.endToEnd = Timer.builder("mqdet.end.to.end").description("From an image event's record timestamp to its detection event's forward")
                .publishPercentiles(0.5, 0.95, 0.99).publishPercentileHistogram().register(registry);
        this.batchSize = DistributionSummary.builder("mqdet.batch.size").description("Images per inference batch")
                .publishPercentiles(0.5, 0.95).register(registry);
        // At its most (tasks x (predictors + 1)) all the time: inference is the bottleneck; near 0: Kafka is.
        Gauge.builder("mqdet.batches.in.flight", batchesInFlight, AtomicInteger::get)
                .description("Batches handed to inference whose results are not yet forwarded").register(registry);
    }

    public void eventIn() {
        eventsIn.increment();
    }

    /** A detection event was forwarded for the image event of record timestamp {@code recordTimestampMs}. */
    public void eventOut(long recordTimestampMs) {
        eventsOut.increment();
        endToEnd.record(Math.max(0, System.currentTimeMillis() - recordTimestampMs), TimeUnit.MILLISECONDS);
    }

    public void exemplarEncoded() {
        exemplarsEncoded.increment();
    }

    public void embeddingSkipped() {
        embeddingsSkipped.increment();
    }

    public void batch(int size, long inferenceMs) {
        batchSize.record(size);
        inference.record(inferenceMs, TimeUnit.MILLISECONDS);
    }

    public void batchesStarted(int count) {
        batchesInFlight.addAndGet(count);
    }

    public void batchesEnded(int count) {
        batchesInFlight.addAndGet(-count);
    }

    public void deadLetter(String stage) {
        registry.counter("mqdet.dead.letters", "stage", stage).increment();
    }

    /** A track event was published ({@code type}: new, update, end). */
    public void trackEvent(String type) {
        registry.counter("mqdet.track.events", "type", type).increment();
    }

    /** A frame reached the tracker after a later frame of its source was taken (beyond the grace period), or did not decode. */
    public void trackFrameSkipped(String reason) {
        registry.counter("mqdet.track.frames.skipped", "reason", reason).increment();
    }

    public MeterRegistry registry() {
        return registry;
    }
}
