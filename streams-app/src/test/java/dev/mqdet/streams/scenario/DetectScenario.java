package dev.mqdet.streams.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.Scoring;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The pipeline's main scenario as a user runs it, through plain Kafka clients ({@link PipelineClient}): register a
 * query set (text + 5 exemplars per category), wait until the app has encoded it, send image events with known
 * ground truth, read one detection event per image event, check each event's fields and score the detections.
 *
 * <p>Shared by the embedded end-to-end test ({@code PipelineEndToEndTest}: in-process broker and registry, app in
 * the test JVM) and the container test ({@code ContainerPipelineTest}: Kafka, Confluent Schema Registry and the
 * streams app image), so the path that runs without Docker is the path that runs with it.
 */
public final class DetectScenario {

    /** The query set: a common name, a rare (unseen) name, an ambiguous pair (one name, two looks). */
    public static final String QUERY_SET = "e2e";
    /** The demo's query set: common names, a rare species, two ambiguous pairs. */
    public static final List<Integer> CATEGORIES = SyntheticWorld.SHOWCASE_CATEGORIES;
    public static final String EVENT_PREFIX = "found-";

    private final SyntheticWorld world;
    private final PipelineClient client;
    private final String modelId;
    private final Duration wait;

    public DetectScenario(SyntheticWorld world, PipelineClient client, String modelId, Duration wait) {
        this.world = world;
        this.client = client;
        this.modelId = modelId;
        this.wait = wait;
    }

    /** Registers the query set (revision 1) and waits until every category is encoded by the app's model. */
    public List<ExemplarQuery> registerQuerySet() {
        List<ExemplarQuery> queries = world.querySet(QUERY_SET, world.categories(CATEGORIES), 5, true, 1);
        client.register(queries);
        client.awaitEncoded(modelId, queries, wait);
        return queries;
    }

    /**
     * Publishes {@code events} image events, reads their detection events (one each), checks each event's fields
     * and returns the detections' score against the ground truth.
     */
    public Scoring detect(int events) {
        for (int i = 0; i < events; i++) {
            client.publish(world.imageEvent(EVENT_PREFIX + i, i, QUERY_SET));
        }
        client.flush();
        List<ConsumerRecord<String, DetectionEvent>> out = client.detections(r -> ids(r).size() >= events, wait);
        assertThat(out).as("one detection event per image event").isNotNull();
        assertThat(ids(out)).as("one detection event per image event").hasSize(events);
        Scoring scoring = new Scoring();
        for (ConsumerRecord<String, DetectionEvent> record : out) {
            DetectionEvent event = record.value();
            if (!event.getEventId().startsWith(EVENT_PREFIX)) {
                continue;
            }
            int index = Integer.parseInt(event.getEventId().substring(EVENT_PREFIX.length()));
            assertThat(record.key()).isEqualTo(event.getEventId());
            assertThat(event.getModelId()).isEqualTo(modelId);
            assertThat(event.getQuerySetId()).isEqualTo(QUERY_SET);
            assertThat(event.getQuerySetVersion()).isEqualTo(1L);
            assertThat(event.getImageWidth()).isEqualTo(world.scene(index).width());
            assertThat(event.getTimings().getBatchSize()).isBetween(1, 8);
            assertThat(event.getAttributes()).containsEntry("scene", world.scene(index).fileName());
            scoring.add(event.getDetections(), world.truth(index, world.categories(CATEGORIES)));
        }
        return scoring;
    }

    /** Registers, detects {@code events} events and checks the quality bar both tests hold: precision and recall at least 0.8. */
    public Scoring run(int events) {
        registerQuerySet();
        Scoring scoring = detect(events);
        assertQuality(scoring);
        return scoring;
    }

    public static void assertQuality(Scoring scoring) {
        assertThat(scoring.recall()).as("recall").isGreaterThanOrEqualTo(0.8);
        assertThat(scoring.precision()).as("precision").isGreaterThanOrEqualTo(0.8);
    }

    private static java.util.Set<String> ids(List<ConsumerRecord<String, DetectionEvent>> records) {
        return records.stream().map(ConsumerRecord::key).filter(k -> k.startsWith(EVENT_PREFIX)).collect(Collectors.toSet());
    }
}
