package dev.mqdet.client;

import dev.mqdet.events.BoundingBox;
import dev.mqdet.events.Exemplar;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.InlineImage;
import dev.mqdet.inference.Box;
import dev.mqdet.inference.eval.CocoEvaluator;
import dev.mqdet.inference.eval.EvalSet;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Demo data from the held-out synthetic world ({@code models/synth-eval}): query sets built from its categories
 * (label + exemplar images with boxes), and image events of its scenes with their ground truth.
 */
public final class SyntheticWorld {

    /**
     * A showcase query set: two common names, a rare species name the text encoder never saw, and two ambiguous
     * pairs (one name, two looks each). Chosen among the 22 held-out categories as ones the small shipped model
     * scores well at one threshold ({@link #SHOWCASE_THRESHOLD}); over all 22 its precision at a fixed threshold
     * is lower (see docs/benchmarks.md). The demo and the end-to-end tests use it.
     */
    public static final List<Integer> SHOWCASE_CATEGORIES = List.of(92, 100, 105, 109, 110, 111, 112);
    /** The score threshold the showcase categories are run with. */
    public static final String SHOWCASE_THRESHOLD = "0.45";

    private final EvalSet set;

    private SyntheticWorld(EvalSet set) {
        this.set = set;
    }

    public static SyntheticWorld load(Path evalSetDir) {
        return new SyntheticWorld(EvalSet.load(evalSetDir));
    }

    public EvalSet evalSet() {
        return set;
    }

    /** The held-out categories of the given ids, in that order. */
    public List<EvalSet.Category> categories(List<Integer> ids) {
        Map<Integer, EvalSet.Category> byId = set.categories().stream().collect(Collectors.toMap(EvalSet.Category::id, c -> c));
        return ids.stream().map(byId::get).toList();
    }

    /** One exemplar query per category: the label (if {@code withLabels}) and its first {@code shots} exemplars. */
    public List<ExemplarQuery> querySet(String querySetId, List<EvalSet.Category> categories, int shots, boolean withLabels, long revision) {
        List<ExemplarQuery> queries = new ArrayList<>();
        for (EvalSet.Category category : categories) {
            queries.add(ExemplarQuery.newBuilder()
                    .setQuerySetId(querySetId)
                    .setCategoryId(categoryId(category))
                    .setLabel(withLabels ? category.name() : null)
                    .setExemplars(exemplars(category, shots))
                    .setRevision(revision)
                    .setUpdatedAtMs(Instant.now())
                    .setUpdatedBy("demo")
                    .build());
        }
        return queries;
    }

    /** The id a category gets in demo query sets: its name made id-safe, plus its number (ambiguous names repeat). */
    public static String categoryId(EvalSet.Category category) {
        return category.name().replaceAll("[^A-Za-z0-9]+", "-") + "-" + category.id();
    }

    public List<Exemplar> exemplars(EvalSet.Category category, int shots) {
        return set.exemplars().stream()
                .filter(e -> e.categoryId() == category.id())
                .sorted(Comparator.comparingInt(EvalSet.ExemplarRef::id))
                .limit(shots)
                .map(e -> {
                    EvalSet.Image image = set.exemplarImages().stream().filter(i -> i.id() == e.imageId()).findFirst().orElseThrow();
                    Box b = e.box();
                    return new Exemplar("ex-" + e.id(), new InlineImage(ByteBuffer.wrap(set.read(image)), "image/png"),
                            new BoundingBox(b.x1(), b.y1(), b.x2(), b.y2()));
                })
                .toList();
    }

    /** The {@code index}-th scene (cycling) as an image event for {@code querySetId}. */
    public ImageEvent imageEvent(String eventId, int index, String querySetId) {
        EvalSet.Image image = scene(index);
        return ImageEvent.newBuilder()
                .setEventId(eventId)
                .setSource("demo-camera-" + (index % 3))
                .setQuerySetId(querySetId)
                .setCapturedAtMs(Instant.now())
                .setImage(new InlineImage(ByteBuffer.wrap(set.read(image)), "image/png"))
                .setAttributes(Map.of("scene", image.fileName()))
                .build();
    }

    public EvalSet.Image scene(int index) {
        return set.images().get(index % set.images().size());
    }

    /** Ground-truth boxes of the scene for the given categories, with the demo category ids. */
    public List<Truth> truth(int index, List<EvalSet.Category> categories) {
        int imageId = scene(index).id();
        Map<Integer, EvalSet.Category> byId = categories.stream().collect(Collectors.toMap(EvalSet.Category::id, c -> c));
        Set<Integer> wanted = byId.keySet();
        List<Truth> truths = new ArrayList<>();
        for (CocoEvaluator.GroundTruth g : set.truths()) {
            if (g.imageId() == imageId && wanted.contains(g.categoryId())) {
                CocoEvaluator.XYWH b = g.box();
                truths.add(new Truth(categoryId(byId.get(g.categoryId())),
                        new Box((float) b.x(), (float) b.y(), (float) (b.x() + b.w()), (float) (b.y() + b.h()))));
            }
        }
        return truths;
    }

    /** A ground-truth object: demo category id and box. */
    public record Truth(String categoryId, Box box) {}
}
