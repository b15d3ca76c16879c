package dev.mqdet.client;

import dev.mqdet.events.Detection;
import dev.mqdet.inference.Box;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Precision and recall of detection events against ground truth: a detection is right when it matches an unmatched object of its category with IoU at least 0.5. */
public final class Scoring {

    private long truePositives;
    private long detections;
    private long objects;

    public void add(List<Detection> found, List<SyntheticWorld.Truth> truths) {
        List<Detection> sorted = new ArrayList<>(found);
        sorted.sort(Comparator.comparingDouble(d -> -d.getScore()));
        boolean[] used = new boolean[truths.size()];
        for (Detection d : sorted) {
            Box box = new Box(d.getBox().getX1(), d.getBox().getY1(), d.getBox().getX2(), d.getBox().getY2());
            int best = -1;
            double bestIou = 0.5;
            for (int i = 0; i < truths.size(); i++) {
                if (!used[i] && truths.get(i).categoryId().equals(d.getCategoryId())) {
                    double iou = box.iou(truths.get(i).box());
                    if (iou >= bestIou) {
                        bestIou = iou;
                        best = i;
                    }
                }
            }
            if (best >= 0) {
                used[best] = true;
                truePositives++;
            }
        }
        detections += found.size();
        objects += truths.size();
    }

    public double precision() {
        return detections == 0 ? 0 : (double) truePositives / detections;
    }

    public double recall() {
        return objects == 0 ? 0 : (double) truePositives / objects;
    }
}
