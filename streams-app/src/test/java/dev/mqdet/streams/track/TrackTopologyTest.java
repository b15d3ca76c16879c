package dev.mqdet.streams.track;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.events.BoundingBox;
import dev.mqdet.events.Detection;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.TrackEvent;
import dev.mqdet.events.TrackEventType;
import dev.mqdet.events.Timings;
import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.schemaregistry.SchemaRegistryClient;
import dev.mqdet.streams.ops.PipelineMetrics;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import dev.mqdet.topics.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The tracking part of the topology on the test driver: detection events in, track events out, per source. */
@ExtendWith(LocalStackExtension.class)
class TrackTopologyTest {

    private static final Instant START = Instant.parse("2026-12-01T00:00:00Z");

    private TopologyTestDriver driver;
    private TestInputTopic<String, DetectionEvent> detections;
    private TestInputTopic<String, byte[]> raw;
    private TestOutputTopic<String, TrackEvent> tracks;
    private SimpleMeterRegistry meters;

    @BeforeEach
    void start(LocalStack stack) throws Exception {
        SchemaRegistryClient registry = new RestSchemaRegistryClient(Map.of("schema.registry.url", stack.schemaRegistryUrl()));
        meters = new SimpleMeterRegistry();
        StreamsBuilder builder = new StreamsBuilder();
        TrackerSettings settings = new TrackerSettings(0.5f, 0.2f, 0.5f, 2, 5_000, 0, 0.9f, 0.1f, 100);
        TrackTopology.add(builder, "detections", "tracks", settings, Topics.DETECTIONS.valueSerde(registry),
                Topics.TRACKS.valueSerde(registry), new PipelineMetrics(meters));
        Properties props = new Properties();
        props.put("application.id", "track-topology-test");
        props.put("bootstrap.servers", "unused:9092");
        props.put("state.dir", Files.createTempDirectory("mqdet-ttd-tracks").toString());
        driver = new TopologyTestDriver(builder.build(), props, START);
        detections = driver.createInputTopic("detections", new StringSerializer(), Topics.DETECTIONS.valueSerde(registry).serializer());
        raw = driver.createInputTopic("detections", new StringSerializer(), new ByteArraySerializer());
        tracks = driver.createOutputTopic("tracks", new StringDeserializer(), Topics.TRACKS.valueSerde(registry).deserializer());
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    @Test
    void aMovingObjectBecomesNewThenUpdatesThenEndsUnderOneIdPerSource() {
        for (int f = 0; f < 4; f++) {
            detections.pipeInput("cam-a-" + f, frame("cam-a", f, 10 + 10 * f));
        }
        detections.pipeInput("cam-b-0", frame("cam-b", 0, 100));
        for (int f = 4; f < 7; f++) { // cam-a's object is gone: ends after two missed frames
            detections.pipeInput("cam-a-" + f, empty("cam-a", f));
        }

        List<TrackEvent> out = tracks.readValuesToList();
        assertThat(out).filteredOn(e -> e.getSource().equals("cam-a")).extracting(TrackEvent::getType)
                .containsExactly(TrackEventType.NEW, TrackEventType.UPDATE, TrackEventType.UPDATE, TrackEventType.UPDATE, TrackEventType.END);
        assertThat(out).filteredOn(e -> e.getSource().equals("cam-a")).extracting(TrackEvent::getTrackId).containsOnly("cam-a/1");
        TrackEvent end = out.stream().filter(e -> e.getType() == TrackEventType.END).findFirst().orElseThrow();
        assertThat(end.getFrameCount()).isEqualTo(4);
        assertThat(end.getEventIds()).containsExactly("cam-a-0", "cam-a-1", "cam-a-2", "cam-a-3");
        assertThat(out).filteredOn(e -> e.getSource().equals("cam-b")).extracting(TrackEvent::getTrackId).containsExactly("cam-b/1");
    }

    @Test
    void aSilentSourcesTracksEndOnTheWallClockAndUndecodableRecordsAreSkipped() {
        detections.pipeInput("cam-a-0", frame("cam-a", 0, 10));
        raw.pipeInput("junk", "not avro".getBytes(StandardCharsets.UTF_8));
        assertThat(tracks.readValuesToList()).extracting(TrackEvent::getType).containsExactly(TrackEventType.NEW);

        driver.advanceWallClockTime(Duration.ofSeconds(6));
        assertThat(tracks.readValuesToList()).extracting(TrackEvent::getType).containsExactly(TrackEventType.END);
        assertThat(meters.counter("mqdet.track.frames.skipped", "reason", "undecodable").count()).isEqualTo(1.0);
    }

    private static DetectionEvent frame(String source, int index, float x) {
        return event(source, index, List.of(new Detection("fox", "fox", 0.8f, new BoundingBox(x, 20f, x + 40, 60f), 0.3f, null, null)));
    }

    private static DetectionEvent empty(String source, int index) {
        return event(source, index, List.of());
    }

    private static DetectionEvent event(String source, int index, List<Detection> found) {
        return DetectionEvent.newBuilder().setEventId(source + "-" + index).setSource(source).setQuerySetId("qs").setQuerySetVersion(1)
                .setModelId("m").setImageWidth(320).setImageHeight(240).setDetections(found)
                .setTimings(new Timings(0L, 0L, 1, 0L, 0L)).setAttributes(Map.of()).setDetectedAtMs(START)
                .setCapturedAtMs(START.plusMillis(100L * index)).build();
    }
}
