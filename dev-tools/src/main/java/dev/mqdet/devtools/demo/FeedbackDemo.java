package dev.mqdet.devtools.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.events.Detection;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.inference.Box;
import dev.mqdet.inference.eval.EvalSet;
import dev.mqdet.topics.Topics;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The demo's operator: looks at the answers to some feedback scenes (never the measured ones), and per category
 * rejects up to N false detections ("not this") and confirms up to N true ones ("add as exemplar") through the
 * registry's feedback API, as a person on the web page would, knowing the truth by looking. Then waits until the
 * pipeline has re-encoded every category it changed.
 */
final class FeedbackDemo {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Event ids of the feedback scenes: this prefix and the scene's index. */
    private static final String PREFIX = "feedback-";

    private final SyntheticWorld world;
    private final PipelineClient client;
    private final String querySet;
    private final List<EvalSet.Category> categories;
    private final URI registry;
    private final String token;
    private final HttpClient http = HttpClient.newHttpClient();

    FeedbackDemo(SyntheticWorld world, PipelineClient client, String querySet, List<EvalSet.Category> categories, URI registry, String token) {
        this.world = world;
        this.client = client;
        this.querySet = querySet;
        this.categories = categories;
        this.registry = registry;
        this.token = token;
    }

    /** What the operator did. */
    record Summary(int scenes, int rejected, int confirmed, int refused) {
        String line() {
            return String.format("demo: feedback on %d scenes: %d rejected, %d confirmed, %d refused by the registry", scenes, rejected, confirmed, refused);
        }
    }

    /** Judges the detections of scenes {@code first .. first + count - 1}, at most {@code perCategory} of each kind per category. */
    Summary run(int first, int count, int perCategory, Duration timeout) throws IOException, InterruptedException {
        for (int i = first; i < first + count; i++) {
            client.publish(world.imageEvent(PREFIX + i, i, querySet));
        }
        client.flush();
        List<ConsumerRecord<String, DetectionEvent>> answers = client.detections(r -> r.stream()
                .filter(e -> e.key().startsWith(PREFIX)).count() >= count, timeout);
        if (answers == null) {
            throw new IllegalStateException("the feedback scenes were not answered within " + timeout);
        }
        Map<String, List<Judged>> wrong = new HashMap<>();
        Map<String, List<Judged>> right = new HashMap<>();
        for (ConsumerRecord<String, DetectionEvent> record : answers) {
            DetectionEvent event = record.value();
            if (!event.getEventId().startsWith(PREFIX)) {
                continue; // the measured scenes' answers are on the same topic
            }
            int scene = Integer.parseInt(event.getEventId().substring(PREFIX.length()));
            List<SyntheticWorld.Truth> truths = world.truth(scene, categories);
            for (int i = 0; i < event.getDetections().size(); i++) {
                Detection d = event.getDetections().get(i);
                Box box = new Box(d.getBox().getX1(), d.getBox().getY1(), d.getBox().getX2(), d.getBox().getY2());
                boolean isTrue = truths.stream().anyMatch(t -> t.categoryId().equals(d.getCategoryId()) && box.iou(t.box()) >= 0.5);
                (isTrue ? right : wrong).computeIfAbsent(d.getCategoryId(), k -> new ArrayList<>()).add(new Judged(event.getEventId(), i, d.getScore()));
            }
        }
        int rejected = 0;
        int confirmed = 0;
        int refused = 0;
        Map<String, Long> revisions = new HashMap<>();
        for (EvalSet.Category category : categories) {
            String id = SyntheticWorld.categoryId(category);
            for (String verdict : List.of("reject", "confirm")) {
                List<Judged> candidates = new ArrayList<>((verdict.equals("reject") ? wrong : right).getOrDefault(id, List.of()));
                candidates.sort(Comparator.comparingDouble((Judged j) -> -j.score())); // the most confident mistakes first
                for (Judged j : candidates.subList(0, Math.min(perCategory, candidates.size()))) {
                    awaitImage(j.eventId(), timeout);
                    HttpResponse<String> response = post("/api/query-sets/" + querySet + "/feedback",
                            Map.of("eventId", j.eventId(), "detection", j.index(), "verdict", verdict));
                    if (response.statusCode() == 201) {
                        revisions.put(id, JSON.readTree(response.body()).path("category").path("revision").asLong());
                        if (verdict.equals("reject")) {
                            rejected++;
                        } else {
                            confirmed++;
                        }
                    } else if (response.statusCode() == 422) {
                        refused++; // a full category (the model's exemplar limit): the registry says so and writes nothing
                    } else {
                        throw new IllegalStateException("feedback refused: HTTP " + response.statusCode() + " " + response.body());
                    }
                }
            }
        }
        awaitEncoded(revisions, timeout);
        return new Summary(count, rejected, confirmed, refused);
    }

    private record Judged(String eventId, int index, float score) {}

    /** Every changed category's embedding at (or past) the revision the registry wrote. */
    private void awaitEncoded(Map<String, Long> revisions, Duration timeout) {
        if (revisions.isEmpty()) {
            return;
        }
        var done = client.read(Topics.EXEMPLAR_EMBEDDINGS, r -> revisions.entrySet().stream().allMatch(want -> r.stream()
                .anyMatch(e -> e.value() != null && e.value().getQuerySetId().equals(querySet)
                        && e.value().getCategoryId().equals(want.getKey()) && e.value().getQueryRevision() >= want.getValue())), timeout);
        if (done == null) {
            throw new IllegalStateException("the pipeline did not re-encode the judged categories within " + timeout);
        }
    }

    /** The live view reads the images topic on its own; an event's image may land a moment after its detections. */
    private void awaitImage(String eventId, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (send(HttpRequest.newBuilder(registry.resolve("/api/live/images/" + eventId)).GET()).statusCode() != 200) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the registry's live view never held the image of " + eventId);
            }
            Thread.sleep(100);
        }
    }

    private HttpResponse<String> post(String path, Object body) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(registry.resolve(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))));
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return http.send(request.header("Authorization", "Bearer " + token).header("X-Client-Name", "demo-operator").build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
