package dev.mqdet.inference.eval;

import dev.mqdet.inference.Box;
import dev.mqdet.inference.DetectedObject;
import dev.mqdet.inference.ImageDecoder.PreparedImage;
import dev.mqdet.inference.MqDetModel;
import dev.mqdet.inference.QueryCategory;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * AP of a model on the held-out set in the three query modes, the same protocol as {@code training/run eval}:
 * every evaluated category in one query set, 5 exemplars per category (lowest exemplar ids first), score
 * threshold 0.05, NMS 0.5 per category, up to 100 detections per image and category.
 */
public final class Evaluation {

    public static final List<String> SPLITS = List.of("common", "rare", "ambiguous");
    public static final List<String> MODES = List.of("text", "vision", "multimodal");

    private Evaluation() {}

    /** Options matching the Python evaluator's post-processing. */
    public static MqDetModel.Options referenceOptions() {
        return MqDetModel.Options.builder().optScoreThreshold(0.05f).optMaxDetectionsPerImage(Integer.MAX_VALUE).build();
    }

    /** {@code {split: {mode: {"ap": .., "ap50": ..}}}}, AP in percent rounded to 2 decimals. */
    public static Map<String, Map<String, Map<String, Double>>> run(MqDetModel model, EvalSet set, int shots, int batch) {
        List<EvalSet.Category> categories = set.evaluated();
        Map<Integer, List<float[]>> bank = exemplarBank(model, set, shots);
        List<Integer> ids = categories.stream().map(EvalSet.Category::id).toList();
        List<CocoEvaluator.GroundTruth> truths = set.truths().stream().filter(g -> ids.contains(g.categoryId())).toList();
        List<PreparedImage> images = set.images().stream().map(i -> model.decoder().prepare(set.read(i))).toList();

        Map<String, Map<String, Map<String, Double>>> result = new LinkedHashMap<>();
        SPLITS.forEach(split -> result.put(split, new LinkedHashMap<>()));
        for (String mode : MODES) {
            List<QueryCategory> querySet = new ArrayList<>();
            for (EvalSet.Category c : categories) {
                String label = mode.equals("vision") ? null : c.name();
                List<float[]> exemplars = mode.equals("text") ? List.of() : bank.getOrDefault(c.id(), List.of());
                querySet.add(new QueryCategory(Integer.toString(c.id()), label, exemplars));
            }
            List<CocoEvaluator.Scored> detections = new ArrayList<>();
            for (int from = 0; from < images.size(); from += batch) {
                List<PreparedImage> chunk = images.subList(from, Math.min(from + batch, images.size()));
                List<List<DetectedObject>> found = model.detectPrepared(chunk, querySet);
                for (int j = 0; j < chunk.size(); j++) {
                    int imageId = set.images().get(from + j).id();
                    for (DetectedObject d : found.get(j)) {
                        Box b = d.box();
                        detections.add(new CocoEvaluator.Scored(imageId, Integer.parseInt(d.categoryId()),
                                new CocoEvaluator.XYWH(b.x1(), b.y1(), b.width(), b.height()), d.score()));
                    }
                }
            }
            Map<Integer, double[]> perCategory = CocoEvaluator.evaluate(truths, detections, ids);
            for (String split : SPLITS) {
                List<Integer> inSplit = categories.stream().filter(c -> c.split().equals(split)).map(EvalSet.Category::id).toList();
                double[] apAp50 = CocoEvaluator.summarize(perCategory, inSplit);
                result.get(split).put(mode, Map.of("ap", round(apAp50[0]), "ap50", round(apAp50[1])));
            }
        }
        return result;
    }

    /** The first {@code shots} exemplars (by exemplar id) of each category, encoded image by image. */
    public static Map<Integer, List<float[]>> exemplarBank(MqDetModel model, EvalSet set, int shots) {
        Map<Integer, List<EvalSet.ExemplarRef>> byImage = new TreeMap<>();
        for (EvalSet.ExemplarRef e : set.exemplars()) {
            byImage.computeIfAbsent(e.imageId(), k -> new ArrayList<>()).add(e);
        }
        Map<Integer, List<Map.Entry<Integer, float[]>>> byCategory = new TreeMap<>();
        for (var entry : byImage.entrySet()) {
            EvalSet.Image image = set.exemplarImages().stream().filter(i -> i.id() == entry.getKey()).findFirst().orElseThrow();
            List<EvalSet.ExemplarRef> refs = entry.getValue();
            List<float[]> vectors = model.encodeExemplars(set.read(image), refs.stream().map(EvalSet.ExemplarRef::box).toList());
            for (int i = 0; i < refs.size(); i++) {
                byCategory.computeIfAbsent(refs.get(i).categoryId(), k -> new ArrayList<>()).add(Map.entry(refs.get(i).id(), vectors.get(i)));
            }
        }
        Map<Integer, List<float[]>> bank = new TreeMap<>();
        byCategory.forEach((category, list) -> bank.put(category, list.stream()
                .sorted(Comparator.comparingInt(Map.Entry::getKey)).limit(shots).map(Map.Entry::getValue).toList()));
        return bank;
    }

    private static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }
}
