package dev.mqdet.streams.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/** The pipeline's own meters; Kafka Streams' metrics are bound beside them. Names follow Prometheus conventions once exported. */
public final class PipelineMetrics {

    private final MeterRegistry registry;
    private final Counter eventsIn;
    private final Counter eventsOut;
    private final Counter exemplarsEncoded;
    private final Timer inference;
    private final DistributionSummary batchSize;

    public PipelineMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.eventsIn = Counter.builder("mqdet.events.in").description("Image events read").register(registry);
        this.eventsOut = Counter.builder("mqdet.events.out").description("Detection events written").register(registry);
        this.exemplarsEncoded = Counter.builder("mqdet.exemplars.encoded").description("Exemplar queries encoded").register(registry);
        this.inference = Timer.builder("mqdet.inference").description("Model time per batch")
                .publishPercentiles(0.5, 0.95, 0.99).register(registry);
        this.batchSize = DistributionSummary.builder("mqdet.batch.size").description("Images per inference batch")
                .publishPercentiles(0.5, 0.95).register(registry);
    }

    public void eventIn() {
        eventsIn.increment();
    }

    public void eventOut() {
        eventsOut.increment();
    }

    public void exemplarEncoded() {
        exemplarsEncoded.increment();
    }

    public void batch(int size, long inferenceMs) {
        batchSize.record(size);
        inference.record(inferenceMs, TimeUnit.MILLISECONDS);
    }

    public void deadLetter(String stage) {
        registry.counter("mqdet.dead.letters", "stage", stage).increment();
    }

    public MeterRegistry registry() {
        return registry;
    }
}
