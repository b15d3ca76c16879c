package dev.mqdet.streams.encode;

import dev.mqdet.events.Exemplar;
import dev.mqdet.events.ExemplarEmbedding;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.ExemplarVector;
import dev.mqdet.inference.Box;
import dev.mqdet.inference.InferenceException;
import dev.mqdet.inference.MqDetModel;
import dev.mqdet.streams.detect.ImageSource;
import dev.mqdet.streams.ops.PipelineMetrics;
import dev.mqdet.topics.QueryLimits;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One exemplar query made into what the detector needs from it: one vector per exemplar from this instance's model,
 * and the category's calibrated threshold. Refuses (with an {@link InferenceException.InvalidQueryException}) what
 * the model cannot take, so that a bad category costs one dead letter here instead of one per image event.
 */
public final class QueryEncoder {

    private final MqDetModel model;
    private final PipelineMetrics metrics;
    private final boolean calibrate;

    QueryEncoder(MqDetModel model, PipelineMetrics metrics, boolean calibrate) {
        this.model = model;
        this.metrics = metrics;
        this.calibrate = calibrate;
    }

    ExemplarEmbedding encode(ExemplarQuery query) {
        if ((query.getLabel() == null || query.getLabel().isBlank()) && query.getExemplars().isEmpty()) {
            throw new InferenceException.InvalidQueryException("category " + query.getQuerySetId() + "/" + query.getCategoryId()
                    + " has neither a label nor exemplars");
        }
        Float threshold = query.getScoreThreshold();
        if (threshold != null && !(threshold >= 0 && threshold <= 1)) {
            throw new InferenceException.InvalidQueryException("category " + query.getQuerySetId() + "/" + query.getCategoryId()
                    + " has score threshold " + threshold + ", not in [0, 1]");
        }
        List<Exemplar> exemplars = query.getExemplars();
        int max = model.modelPackage().maxExemplars();
        if (exemplars.size() > max) { // refused here once, instead of failing every event of the query set at inference
            throw new InferenceException.InvalidQueryException("category " + query.getQuerySetId() + "/" + query.getCategoryId()
                    + " has " + exemplars.size() + " exemplars; model " + model.modelId() + " takes at most " + max + " per category");
        }
        if (query.getNegatives().size() > QueryLimits.MAX_NEGATIVES_PER_CATEGORY) {
            throw new InferenceException.InvalidQueryException("category " + query.getQuerySetId() + "/" + query.getCategoryId()
                    + " has " + query.getNegatives().size() + " negative exemplars; at most " + QueryLimits.MAX_NEGATIVES_PER_CATEGORY + " are taken");
        }
        // one encoder call per distinct image over both lists: feedback often takes a positive and a negative from one frame
        List<Exemplar> both = new ArrayList<>(exemplars);
        both.addAll(query.getNegatives());
        List<float[]> encoded = vectors(model, both);
        List<float[]> vectors = encoded.subList(0, exemplars.size());
        List<ExemplarVector> out = records(exemplars, vectors);
        List<ExemplarVector> negatives = records(query.getNegatives(), encoded.subList(exemplars.size(), encoded.size()));
        metrics.exemplarEncoded();
        Float calibrated = null;
        if (calibrate) {
            List<Calibration.Shot> shots = new ArrayList<>(exemplars.size());
            for (int i = 0; i < exemplars.size(); i++) {
                var b = exemplars.get(i).getBox();
                shots.add(new Calibration.Shot(ImageSource.copy(exemplars.get(i).getImage().getData()),
                        new Box(b.getX1(), b.getY1(), b.getX2(), b.getY2()), vectors.get(i)));
            }
            calibrated = Calibration.threshold(model, query.getCategoryId(), query.getLabel(), shots);
        }
        return ExemplarEmbedding.newBuilder()
                .setModelId(model.modelId())
                .setQuerySetId(query.getQuerySetId())
                .setCategoryId(query.getCategoryId())
                .setLabel(query.getLabel())
                .setQueryRevision(query.getRevision())
                .setDimension(model.modelPackage().featureDim())
                .setExemplars(out)
                .setNegatives(negatives)
                .setEncodedAtMs(Instant.now())
                .setScoreThreshold(query.getScoreThreshold())
                .setCalibratedThreshold(calibrated)
                .build();
    }

    /** The model's vector of each exemplar of {@code query}, in order. */
    public static List<float[]> vectors(MqDetModel model, ExemplarQuery query) {
        return vectors(model, query.getExemplars());
    }

    private static List<ExemplarVector> records(List<Exemplar> exemplars, List<float[]> vectors) {
        List<ExemplarVector> out = new ArrayList<>(exemplars.size());
        for (int i = 0; i < exemplars.size(); i++) {
            List<Float> values = new ArrayList<>(vectors.get(i).length);
            for (float v : vectors.get(i)) {
                values.add(v);
            }
            out.add(new ExemplarVector(exemplars.get(i).getExemplarId(), values));
        }
        return out;
    }

    /** The model's vector of each exemplar, in order: one encoder call per distinct exemplar image, with all its boxes. */
    static List<float[]> vectors(MqDetModel model, List<Exemplar> exemplars) {
        Map<ByteBuffer, List<Integer>> byImage = new LinkedHashMap<>();
        for (int i = 0; i < exemplars.size(); i++) {
            byImage.computeIfAbsent(exemplars.get(i).getImage().getData(), k -> new ArrayList<>()).add(i);
        }
        float[][] vectors = new float[exemplars.size()][];
        for (Map.Entry<ByteBuffer, List<Integer>> entry : byImage.entrySet()) {
            List<Box> boxes = entry.getValue().stream().map(i -> {
                var b = exemplars.get(i).getBox();
                return new Box(b.getX1(), b.getY1(), b.getX2(), b.getY2());
            }).toList();
            List<float[]> encoded = model.encodeExemplars(ImageSource.copy(entry.getKey()), boxes);
            for (int j = 0; j < boxes.size(); j++) {
                vectors[entry.getValue().get(j)] = encoded.get(j);
            }
        }
        return List.of(vectors);
    }

}
