package dev.mqdet.inference;

import dev.mqdet.inference.ImageDecoder.PreparedImage;
import dev.mqdet.inference.eval.CocoEvaluator;
import dev.mqdet.inference.eval.EvalSet;
import dev.mqdet.inference.eval.Evaluation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The held-out set's 22 novel categories with text and 5 exemplars, detected and scored at IoU 0.5 (tests' helper). */
final class HeldOut {

    final MqDetModel model;
    final EvalSet set = TestModels.evalSet();
    final List<QueryCategory> query;

    HeldOut(MqDetModel model) {
        this.model = model;
        Map<Integer, List<float[]>> bank = Evaluation.exemplarBank(model, set, 5);
        query = set.evaluated().stream().map(c -> {
            List<float[]> vectors = bank.get(c.id());
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < vectors.size(); i++) {
                ids.add(c.id() + "-ex" + i);
            }
            return new QueryCategory(Integer.toString(c.id()), c.name(), vectors, ids, List.of(), null, null);
        }).toList();
    }

    Map<EvalSet.Image, List<DetectedObject>> detect(List<EvalSet.Image> images, List<QueryCategory> categories) {
        Map<EvalSet.Image, List<DetectedObject>> out = new HashMap<>();
        for (int from = 0; from < images.size(); from += 16) {
            List<EvalSet.Image> chunk = images.subList(from, Math.min(from + 16, images.size()));
            List<PreparedImage> prepared = chunk.stream().map(i -> model.decoder().prepare(set.read(i))).toList();
            List<List<DetectedObject>> found = model.detectPrepared(prepared, categories);
            for (int j = 0; j < chunk.size(); j++) {
                out.put(chunk.get(j), found.get(j));
            }
        }
        return out;
    }

    /** Whether an object of the detection's category lies under it (IoU at least 0.5). */
    boolean isTrue(EvalSet.Image image, DetectedObject d) {
        return set.truths().stream().anyMatch(g -> g.imageId() == image.id() && Integer.toString(g.categoryId()).equals(d.categoryId())
                && d.box().iou(box(g.box())) >= 0.5);
    }

    /** Precision and recall at IoU 0.5 over the evaluated categories (a detection matches at most one object). */
    double[] precisionRecall(Map<EvalSet.Image, List<DetectedObject>> found) {
        int truePositives = 0;
        int detections = 0;
        int objects = 0;
        List<Integer> evaluated = set.evaluated().stream().map(EvalSet.Category::id).toList();
        for (var entry : found.entrySet()) {
            List<CocoEvaluator.GroundTruth> truths = new ArrayList<>(set.truths().stream()
                    .filter(g -> g.imageId() == entry.getKey().id() && evaluated.contains(g.categoryId())).toList());
            objects += truths.size();
            for (DetectedObject d : entry.getValue()) {
                detections++;
                var hit = truths.stream().filter(g -> Integer.toString(g.categoryId()).equals(d.categoryId()) && d.box().iou(box(g.box())) >= 0.5).findFirst();
                if (hit.isPresent()) {
                    truePositives++;
                    truths.remove(hit.get());
                }
            }
        }
        return new double[] {(double) truePositives / detections, (double) truePositives / objects};
    }

    static Box box(CocoEvaluator.XYWH b) {
        return new Box((float) b.x(), (float) b.y(), (float) (b.x() + b.w()), (float) (b.y() + b.h()));
    }
}
