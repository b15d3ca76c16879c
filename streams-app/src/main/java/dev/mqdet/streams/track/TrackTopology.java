package dev.mqdet.streams.track;

import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.TrackEvent;
import dev.mqdet.streams.StreamsAppConfig;
import dev.mqdet.streams.ops.PipelineMetrics;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;

/** The tracking part of the topology: detection events, regrouped by source, become track events. */
public final class TrackTopology {

    private TrackTopology() {}

    public static void add(StreamsBuilder builder, String detectionsTopic, String tracksTopic, TrackerSettings settings,
                           Serde<DetectionEvent> detections, Serde<TrackEvent> tracks, PipelineMetrics metrics) {
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(TrackProcessor.STORE),
                Serdes.String(), SourceTrackerSerde.serde()));
        builder.stream(detectionsTopic, Consumed.with(Serdes.String(), Serdes.ByteArray()).withName("detections-source"))
                .process(() -> new BySource(detections.deserializer(), metrics), Named.as("detections-by-source"))
                // every frame of a source on one partition, in the order the detector answered them
                .repartition(Repartitioned.with(Serdes.String(), detections).withName("frames-by-source"))
                .process(() -> new TrackProcessor(settings, metrics), Named.as("tracker"), TrackProcessor.STORE)
                .to(tracksTopic, Produced.with(Serdes.String(), tracks).withName("tracks-sink"));
    }

    public static TrackerSettings settings(StreamsAppConfig config) {
        return new TrackerSettings(
                config.getFloat(StreamsAppConfig.TRACKS_HIGH_SCORE),
                config.getFloat(StreamsAppConfig.TRACKS_MATCH_IOU),
                config.getFloat(StreamsAppConfig.TRACKS_LOW_MATCH_IOU),
                config.getInt(StreamsAppConfig.TRACKS_MAX_MISSED_FRAMES),
                config.getLong(StreamsAppConfig.TRACKS_MAX_IDLE_MS),
                config.getLong(StreamsAppConfig.TRACKS_GRACE_MS),
                config.getFloat(StreamsAppConfig.TRACKS_UPDATE_IOU),
                config.getFloat(StreamsAppConfig.TRACKS_UPDATE_SCORE_DELTA),
                config.getInt(StreamsAppConfig.TRACKS_MAX_EVENT_IDS));
    }
}
