package dev.mqdet.devtools.demo;

import dev.mqdet.client.MovingScenes;
import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.client.TrackScoring;
import dev.mqdet.events.TrackEvent;
import dev.mqdet.events.TrackEventType;
import dev.mqdet.inference.eval.EvalSet;
import dev.mqdet.topics.Topics;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The demo's cameras: short sequences of frames with objects that move and cross, published as image events;
 * the pipeline's track events are scored against the known identities and drawn into the frames.
 */
final class TrackDemo {

    private final SyntheticWorld world;
    private final PipelineClient client;
    private final String querySet;

    TrackDemo(SyntheticWorld world, PipelineClient client, String querySet) {
        this.world = world;
        this.client = client;
        this.querySet = querySet;
    }

    /** Publishes {@code sequences} sequences of {@code frames} frames, waits until every track ended, scores and draws them. */
    TrackScoring.Summary run(int sequences, int frames, EvalSet.Category crossing, EvalSet.Category other, Path out, Duration timeout)
            throws IOException {
        MovingScenes scenes = new MovingScenes(world);
        List<List<MovingScenes.Frame>> all = new ArrayList<>();
        for (int s = 0; s < sequences; s++) {
            all.add(scenes.sequence(s, frames, crossing, other));
        }
        long start = System.currentTimeMillis();
        for (int f = 0; f < frames; f++) { // the cameras side by side, frame by frame
            for (List<MovingScenes.Frame> sequence : all) {
                client.publish(MovingScenes.imageEvent(sequence.get(f), querySet, start));
            }
        }
        client.flush();
        List<MovingScenes.Frame> flat = all.stream().flatMap(List::stream).toList();
        List<ConsumerRecord<String, TrackEvent>> records = client.read(Topics.TRACKS,
                r -> TrackScoring.everyTrackEnded(flat, r.stream().map(ConsumerRecord::value).toList()), timeout);
        if (records == null) {
            throw new IllegalStateException("not every track of the cameras ended within " + timeout);
        }
        List<TrackEvent> events = TrackScoring.ofSequences(flat, records.stream().map(ConsumerRecord::value).toList());
        draw(flat, events, start, out);
        return TrackScoring.score(flat, events);
    }

    /** Each frame with every track alive at its capture time, at the box it was last reported at by then, and its id. */
    private static void draw(List<MovingScenes.Frame> frames, List<TrackEvent> events, long startMs, Path out) throws IOException {
        Map<String, List<TrackEvent>> byTrack = new HashMap<>();
        for (TrackEvent event : events) {
            byTrack.computeIfAbsent(event.getTrackId(), k -> new ArrayList<>()).add(event);
        }
        byTrack.values().forEach(list -> list.sort(Comparator.comparing(TrackEvent::getLastSeenMs)
                .thenComparing(e -> e.getType() == TrackEventType.END)));
        Files.createDirectories(out);
        for (MovingScenes.Frame frame : frames) {
            long capturedAt = startMs + 100L * frame.index();
            List<TrackEvent> alive = new ArrayList<>();
            for (List<TrackEvent> track : byTrack.values()) {
                TrackEvent last = track.get(track.size() - 1);
                if (!last.getSource().equals(frame.source()) || last.getFirstSeenMs().toEpochMilli() > capturedAt
                        || last.getLastSeenMs().toEpochMilli() < capturedAt) {
                    continue;
                }
                TrackEvent at = null;
                for (TrackEvent e : track) {
                    if (e.getType() != TrackEventType.END && e.getLastSeenMs().toEpochMilli() <= capturedAt) {
                        at = e;
                    }
                }
                if (at != null) {
                    alive.add(at);
                }
            }
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(frame.png()));
            Graphics2D g = image.createGraphics();
            g.setStroke(new BasicStroke(2f));
            for (TrackEvent t : alive) {
                g.setColor(Color.getHSBColor((Math.abs(t.getTrackId().hashCode()) % 360) / 360f, 0.9f, 0.95f));
                int x = Math.round(t.getBox().getX1());
                int y = Math.round(t.getBox().getY1());
                g.drawRect(x, y, Math.round(t.getBox().getX2()) - x, Math.round(t.getBox().getY2()) - y);
                g.drawString(t.getTrackId(), x + 2, Math.max(10, y - 2));
            }
            g.dispose();
            ImageIO.write(image, "png", out.resolve(frame.eventId() + ".png").toFile());
        }
    }
}
