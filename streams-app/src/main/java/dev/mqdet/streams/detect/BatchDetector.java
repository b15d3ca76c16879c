package dev.mqdet.streams.detect;

import dev.mqdet.events.Timings;
import dev.mqdet.inference.ImageDecoder.PreparedImage;
import dev.mqdet.inference.MqDetModel;
import dev.mqdet.streams.detect.ImageSource.ImageFetchException;
import dev.mqdet.streams.ops.PipelineMetrics;
import java.util.ArrayList;
import java.util.List;

/**
 * One batch through the model, on an inference worker: fetch and decode each image, detect them together, map each
 * result to its detection event. Anything that goes wrong with one record (any exception in fetch, decode,
 * inference or mapping) becomes that record's dead letter with the stage; when the model fails on a batch of
 * several images, each is run again alone, so only the image at fault is dead-lettered. A JVM {@link Error} is not
 * caught: it ends the job and stops the instance (see {@link InferenceRunner}).
 */
final class BatchDetector {

    private final MqDetModel model;
    private final ImageSource imageSource;
    private final PipelineMetrics metrics;
    private final DecodeGate decodeGate;

    BatchDetector(MqDetModel model, ImageSource imageSource, PipelineMetrics metrics, DecodeGate decodeGate) {
        this.model = model;
        this.imageSource = imageSource;
        this.metrics = metrics;
        this.decodeGate = decodeGate;
    }

    List<Outcome> detect(Batch batch) {
        List<Outcome> outcomes = new ArrayList<>(batch.events().size());
        List<Pending> ready = new ArrayList<>(batch.events().size());
        List<PreparedImage> images = new ArrayList<>(batch.events().size());
        for (Pending pending : batch.events()) {
            String[] stage = {"fetch"};
            try {
                images.add(decodeGate.run(() -> {
                    byte[] bytes = imageSource.bytes(pending.event());
                    stage[0] = "decode";
                    return model.decoder().prepare(bytes);
                }));
                ready.add(pending);
            } catch (ImageFetchException e) {
                outcomes.add(Outcome.failed(pending, "fetch", e));
            } catch (RuntimeException e) {
                outcomes.add(Outcome.failed(pending, stage[0], e));
            }
        }
        if (!ready.isEmpty()) {
            run(batch, ready, images, outcomes);
        }
        return outcomes;
    }

    private void run(Batch batch, List<Pending> ready, List<PreparedImage> images, List<Outcome> outcomes) {
        long calledAt = System.nanoTime();
        MqDetModel.BatchDetections result;
        try {
            result = model.detectBatch(images, batch.querySet().categories());
        } catch (RuntimeException e) {
            if (ready.size() == 1) {
                outcomes.add(Outcome.failed(ready.get(0), "inference", e));
            } else {
                for (int i = 0; i < ready.size(); i++) { // find the record at fault: each image alone
                    run(batch, List.of(ready.get(i)), List.of(images.get(i)), outcomes);
                }
            }
            return;
        }
        long modelNanos = result.modelTime().toNanos();
        long inferenceMs = result.modelTime().toMillis(); // the model's own time, not the wait for a free predictor
        metrics.batch(ready.size(), inferenceMs);
        // The forward started when the call's wall time, less the model's own time, had passed.
        long predictorWaitMs = Math.max(0, (calledAt + (System.nanoTime() - calledAt - modelNanos) - batch.dispatchedAtNanos()) / 1_000_000);
        for (int i = 0; i < ready.size(); i++) {
            Pending pending = ready.get(i);
            try {
                long batchWaitMs = Math.max(0, batch.dispatchedAtMs() - pending.buffered().bufferedAtMs());
                long queueMs = Math.max(0, batch.dispatchedAtMs() - pending.buffered().timestampMs()) + predictorWaitMs;
                Timings timings = new Timings(queueMs, inferenceMs, ready.size(), batchWaitMs, predictorWaitMs);
                PreparedImage image = images.get(i);
                outcomes.add(Outcome.detected(pending, DetectionEvents.of(pending, batch.querySet(), model.modelId(),
                        image.width(), image.height(), result.perImage().get(i), timings)));
            } catch (RuntimeException e) {
                outcomes.add(Outcome.failed(pending, "map", e));
            }
        }
    }
}
