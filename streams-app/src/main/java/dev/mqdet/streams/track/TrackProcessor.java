package dev.mqdet.streams.track;

import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.TrackEvent;
import dev.mqdet.events.TrackEventType;
import dev.mqdet.streams.ops.PipelineMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Follows objects over the frames of each source: detection events keyed by source in, track events keyed by track id
 * out. Each source's tracker state is one entry of a changelogged store, written in the same step as the events
 * it produced, so a crash or a rebalance (exactly-once included) goes on with the same track ids and repeats no
 * lifecycle event.
 */
public final class TrackProcessor implements Processor<String, DetectionEvent, String, TrackEvent> {

    public static final String STORE = "tracks-by-source";
    /** How often waiting frames and silent sources are looked at. */
    static final Duration TICK = Duration.ofMillis(100);

    private final TrackerSettings settings;
    private final PipelineMetrics metrics;
    private ProcessorContext<String, TrackEvent> context;
    private KeyValueStore<String, SourceTracker> store;
    private long startedAtMs;

    public TrackProcessor(TrackerSettings settings, PipelineMetrics metrics) {
        this.settings = settings;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<String, TrackEvent> context) {
        this.context = context;
        this.store = context.getStateStore(STORE);
        this.startedAtMs = context.currentSystemTimeMs();
        context.schedule(TICK, PunctuationType.WALL_CLOCK_TIME, this::tick);
    }

    @Override
    public void process(Record<String, DetectionEvent> record) {
        DetectionEvent event = record.value();
        if (event == null) {
            return;
        }
        long now = context.currentSystemTimeMs();
        SourceTracker tracker = store.get(event.getSource());
        if (tracker == null) {
            tracker = new SourceTracker(event.getSource());
        }
        List<TrackEvent> events = tracker.offer(Frame.of(event, record.timestamp(), now), now, settings);
        if (tracker.lateFrames > 0) {
            metrics.trackFrameSkipped("late");
            tracker.lateFrames = 0;
        }
        save(tracker);
        publish(events);
    }

    private void tick(long now) {
        List<SourceTracker> changed = new ArrayList<>();
        List<TrackEvent> events = new ArrayList<>();
        try (KeyValueIterator<String, SourceTracker> it = store.all()) {
            while (it.hasNext()) {
                SourceTracker tracker = it.next().value;
                int waiting = tracker.pending.size();
                List<TrackEvent> produced = tracker.tick(now, startedAtMs, settings);
                if (!produced.isEmpty() || tracker.pending.size() != waiting) {
                    changed.add(tracker);
                    events.addAll(produced);
                }
            }
        }
        changed.forEach(this::save); // after the scan: the store is not written while it is iterated
        publish(events);
    }

    private void save(SourceTracker tracker) {
        if (tracker.isEmpty() && tracker.nextNumber == 1) {
            store.delete(tracker.source);
        } else {
            store.put(tracker.source, tracker); // kept when empty too: the next track of the source gets the next number
        }
    }

    private void publish(List<TrackEvent> events) {
        for (TrackEvent event : events) {
            long timestamp = event.getType() == TrackEventType.END ? event.getEmittedAtMs().toEpochMilli() : event.getLastSeenMs().toEpochMilli();
            context.forward(new Record<>(event.getTrackId(), event, timestamp));
            metrics.trackEvent(event.getType().name().toLowerCase(java.util.Locale.ROOT));
        }
    }
}
