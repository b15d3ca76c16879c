package dev.mqdet.client;

import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.InlineImage;
import dev.mqdet.inference.Box;
import dev.mqdet.inference.eval.CocoEvaluator;
import dev.mqdet.inference.eval.EvalSet;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;

/**
 * Short camera sequences of the synthetic world with objects that move and cross, for the tracker: objects of the
 * given categories, cut from held-out scenes, move in straight lines over a held-out scene that has none of them.
 * Each sequence has two objects of the first category that pass each other head on and one of the second category
 * that crosses their path; every frame knows which true object is where.
 */
public final class MovingScenes {

    /** Where a true object is in a frame. */
    public record TrueObject(int objectId, String categoryId, Box box) {}

    /** One frame: the image and its true objects. */
    public record Frame(String source, int index, byte[] png, int width, int height, List<TrueObject> objects) {
        /** The event id the frame is published under. */
        public String eventId() {
            return source + "-frame-" + index;
        }
    }

    private record Sprite(String categoryId, BufferedImage image) {}

    private final SyntheticWorld world;

    public MovingScenes(SyntheticWorld world) {
        this.world = world;
    }

    /** Frames of sequence {@code sequence} (0, 1, ...), {@code frames} long, of two categories of the held-out set. */
    public List<Frame> sequence(int sequence, int frames, EvalSet.Category crossing, EvalSet.Category other) {
        EvalSet set = world.evalSet();
        BufferedImage background = decode(set.read(backgroundScene(sequence, Set.of(crossing.id(), other.id()))));
        Sprite a = sprite(crossing, sequence);
        Sprite b = sprite(crossing, sequence + 1);
        Sprite c = sprite(other, sequence);
        int w = background.getWidth();
        int h = background.getHeight();
        float lane = h * (0.35f + 0.05f * (sequence % 3));
        String source = "camera-" + sequence;
        List<Frame> out = new ArrayList<>(frames);
        for (int f = 0; f < frames; f++) {
            float t = frames == 1 ? 0 : f / (float) (frames - 1);
            BufferedImage frame = copy(background);
            List<TrueObject> objects = new ArrayList<>();
            place(frame, a, 0, 8 + t * (w - 16 - a.image().getWidth()), lane, objects);
            place(frame, b, 1, (w - 8 - b.image().getWidth()) - t * (w - 16 - b.image().getWidth()), lane + 12, objects);
            place(frame, c, 2, w * 0.5f - c.image().getWidth() / 2f + (t - 0.5f) * 30, 6 + t * (h - 12 - c.image().getHeight()), objects);
            out.add(new Frame(source, f, encode(frame), w, h, objects));
        }
        return out;
    }

    /** A frame as an image event; capture times are 100 ms apart from {@code startMs}. */
    public static ImageEvent imageEvent(Frame frame, String querySetId, long startMs) {
        return ImageEvent.newBuilder()
                .setEventId(frame.eventId())
                .setSource(frame.source())
                .setQuerySetId(querySetId)
                .setCapturedAtMs(Instant.ofEpochMilli(startMs + 100L * frame.index()))
                .setImage(new InlineImage(ByteBuffer.wrap(frame.png()), "image/png"))
                .setAttributes(Map.of("frame", Integer.toString(frame.index())))
                .build();
    }

    private EvalSet.Image backgroundScene(int sequence, Set<Integer> categories) {
        EvalSet set = world.evalSet();
        Set<Integer> withThem = set.truths().stream().filter(g -> categories.contains(g.categoryId()))
                .map(CocoEvaluator.GroundTruth::imageId).collect(Collectors.toSet());
        List<EvalSet.Image> free = set.images().stream().filter(i -> !withThem.contains(i.id())).toList();
        return free.get((sequence * 7) % free.size());
    }

    private Sprite sprite(EvalSet.Category category, int pick) {
        EvalSet set = world.evalSet();
        List<CocoEvaluator.GroundTruth> instances = set.truths().stream().filter(g -> g.categoryId() == category.id()).toList();
        CocoEvaluator.GroundTruth g = instances.get(pick % instances.size());
        EvalSet.Image image = set.images().stream().filter(i -> i.id() == g.imageId()).findFirst().orElseThrow();
        BufferedImage scene = decode(set.read(image));
        CocoEvaluator.XYWH box = g.box();
        int x = (int) Math.round(box.x());
        int y = (int) Math.round(box.y());
        int bw = Math.min((int) Math.round(box.w()), scene.getWidth() - x);
        int bh = Math.min((int) Math.round(box.h()), scene.getHeight() - y);
        return new Sprite(SyntheticWorld.categoryId(category), copy(scene.getSubimage(x, y, bw, bh)));
    }

    private static void place(BufferedImage frame, Sprite sprite, int objectId, float x, float y, List<TrueObject> objects) {
        int px = Math.round(x);
        int py = Math.round(y);
        frame.getGraphics().drawImage(sprite.image(), px, py, null);
        objects.add(new TrueObject(objectId, sprite.categoryId(),
                new Box(px, py, px + sprite.image().getWidth(), py + sprite.image().getHeight())));
    }

    private static BufferedImage copy(BufferedImage image) {
        BufferedImage copy = new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_INT_RGB);
        copy.getGraphics().drawImage(image, 0, 0, null);
        return copy;
    }

    private static BufferedImage decode(byte[] png) {
        try {
            return ImageIO.read(new ByteArrayInputStream(png));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] encode(BufferedImage image) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(image, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
