import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ExemplarEmbedding;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.inference.eval.EvalSet;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.Scoring;
import dev.mqdet.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The compose stack's demo producer (profile "demo"): what {@code ./mqdet demo} does, against a running stack.
 * Registers the demo query set on exemplar-queries, waits until the streams app has encoded it, publishes
 * DEMO_EVENTS synthetic image events with known ground truth, reads their detection events and prints precision
 * and recall. Exit code 0 when every event was answered.
 *
 * <p>Environment: MQDET_BOOTSTRAP_SERVERS, MQDET_SCHEMA_REGISTRY_URL, DEMO_EVENTS (50), DEMO_QUERY_SET
 * (wildlife-demo), DEMO_TIMEOUT_SECONDS (600), DEMO_EVAL_SET (/app/demo/synth-eval).
 */
public final class DemoProducer {
    /** The categories of ./mqdet demo: common names, rare (unseen) names, ambiguous pairs. */
    static final List<Integer> DEMO_CATEGORIES = List.of(91, 95, 99, 101, 103, 107, 108, 109, 110);

    public static void main(String[] args) {
        String bootstrap = env("MQDET_BOOTSTRAP_SERVERS", "kafka:9092");
        String registryUrl = env("MQDET_SCHEMA_REGISTRY_URL", "http://schema-registry:8081");
        int events = Integer.parseInt(env("DEMO_EVENTS", "50"));
        String querySet = env("DEMO_QUERY_SET", "wildlife-demo");
        Duration timeout = Duration.ofSeconds(Long.parseLong(env("DEMO_TIMEOUT_SECONDS", "600")));
        SyntheticWorld world = SyntheticWorld.load(Path.of(env("DEMO_EVAL_SET", "/app/demo/synth-eval")));
        List<EvalSet.Category> categories = world.categories(DEMO_CATEGORIES);
        String runId = Long.toString(System.currentTimeMillis(), 36);

        try (PipelineClient client = new PipelineClient(bootstrap, registryUrl)) {
            List<ExemplarQuery> queries = world.querySet(querySet, categories, 5, true, 1);
            client.register(queries);
            log("registered " + queries.size() + " categories in query set " + querySet + "; waiting for the streams app to encode them");
            if (client.read(Topics.EXEMPLAR_EMBEDDINGS, records -> encoded(records, querySet, queries), timeout) == null) {
                log("the query set was not encoded within " + timeout + ": is the streams app running (profile cpu or gpu)?");
                System.exit(1);
            }
            for (int i = 0; i < events; i++) {
                client.publish(world.imageEvent("demo-" + runId + "-" + i, i, querySet));
            }
            client.flush();
            log("published " + events + " image events; reading detections");
            String prefix = "demo-" + runId + "-";
            List<ConsumerRecord<String, DetectionEvent>> out = client.detections(
                    records -> records.stream().filter(r -> r.key().startsWith(prefix)).count() >= events, timeout);
            if (out == null) {
                log("not every event was answered within " + timeout);
                System.exit(1);
            }
            Scoring scoring = new Scoring();
            for (ConsumerRecord<String, DetectionEvent> record : out) {
                if (record.key().startsWith(prefix)) {
                    int index = Integer.parseInt(record.key().substring(prefix.length()));
                    scoring.add(record.value().getDetections(), world.truth(index, categories));
                }
            }
            System.out.printf("demo: %d events, %d detection events, precision %.2f, recall %.2f%n",
                    events, out.stream().filter(r -> r.key().startsWith(prefix)).count(), scoring.precision(), scoring.recall());
        }
    }

    /** Every category of the query set has an embedding (of any model) at the registered revision. */
    private static boolean encoded(List<ConsumerRecord<String, ExemplarEmbedding>> records, String querySet, List<ExemplarQuery> queries) {
        Map<String, Long> revisions = new HashMap<>();
        for (ConsumerRecord<String, ExemplarEmbedding> r : records) {
            String[] parts = r.key().split("/");
            if (parts.length == 3 && parts[1].equals(querySet) && r.value() != null) {
                revisions.merge(parts[2], r.value().getQueryRevision(), Math::max);
            }
        }
        return queries.stream().allMatch(q -> revisions.getOrDefault(q.getCategoryId(), -1L) >= q.getRevision());
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }

    private static void log(String message) {
        System.err.println("demo-producer: " + message);
    }
}
