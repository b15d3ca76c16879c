package dev.mqdet.inference;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.inference.ImageDecoder.PreparedImage;
import dev.mqdet.inference.eval.EvalSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * 10,000 detections (images through the detector) in one process: its resident memory, which is where
 * libtorch's native allocations live, stays flat once warm. The heap is fixed and pre-touched (see the POM), so
 * resident memory moves only with native memory. A leaked input tensor per call would add about 20 MB per batch
 * here, gigabytes in all.
 */
class NativeMemoryTest {

    private static final int DETECTIONS = 10_000;
    private static final int BATCH = 16;

    @Test
    void tenThousandDetectionsLeaveNativeMemoryFlat() throws IOException {
        EvalSet set = TestModels.evalSet();
        try (MqDetModel model = MqDetModel.load(TestModels.shippedPackage(), MqDetModel.Options.defaults().withPoolSize(1))) {
            List<PreparedImage> batch = set.images().subList(0, BATCH).stream().map(i -> model.decoder().prepare(set.read(i))).toList();
            List<QueryCategory> query = List.of(QueryCategory.text("a", "yellow dotted square"), QueryCategory.text("b", "blue solid star"));
            // Warm-up until libtorch's and malloc's pools reach their working size (about 2,000 detections here).
            int warmUp = 3_000 / BATCH;
            for (int i = 0; i < warmUp; i++) {
                model.detectPrepared(batch, query);
            }
            long before = residentKb();
            long peak = before;
            for (int done = 0; done < DETECTIONS; done += BATCH) {
                model.detectPrepared(batch, query);
                peak = Math.max(peak, residentKb());
            }
            long after = residentKb();
            System.err.printf("native memory: resident %d MB after warm-up, %d MB after %d detections, peak %d MB%n",
                    before / 1024, after / 1024, DETECTIONS, peak / 1024);
            assertThat((after - before) / 1024).as("resident MB growth over %d detections", DETECTIONS).isLessThan(64);
        }
    }

    private static long residentKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
