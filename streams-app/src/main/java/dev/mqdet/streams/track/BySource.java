package dev.mqdet.streams.track;

import dev.mqdet.events.DetectionEvent;
import dev.mqdet.schemaregistry.SchemaRegistryUnavailableException;
import dev.mqdet.streams.ops.PipelineMetrics;
import dev.mqdet.topics.LogSafe;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes detection events and keys them by source, for the repartition that brings each source's frames to one
 * tracker. The pipeline wrote these records itself, so one that does not decode is logged, counted and skipped
 * (as on exemplar-embeddings), never fatal and never dead-lettered a second time.
 */
public final class BySource implements Processor<String, byte[], String, DetectionEvent> {

    private static final Logger log = LoggerFactory.getLogger(BySource.class);

    private final Deserializer<DetectionEvent> detections;
    private final PipelineMetrics metrics;
    private ProcessorContext<String, DetectionEvent> context;

    public BySource(Deserializer<DetectionEvent> detections, PipelineMetrics metrics) {
        this.detections = detections;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<String, DetectionEvent> context) {
        this.context = context;
    }

    @Override
    public void process(Record<String, byte[]> record) {
        if (record.value() == null) {
            return;
        }
        DetectionEvent event;
        try {
            event = detections.deserialize(context.recordMetadata().map(m -> m.topic()).orElse(""), record.value());
        } catch (SchemaRegistryUnavailableException transientFailure) {
            throw transientFailure;
        } catch (RuntimeException e) {
            log.warn("tracker skipped an undecodable detection event (key {}): {}", LogSafe.quote(record.key(), 300), LogSafe.quote(e.getMessage(), 500));
            metrics.trackFrameSkipped("undecodable");
            return;
        }
        context.forward(new Record<>(event.getSource(), event, record.timestamp()));
    }
}
