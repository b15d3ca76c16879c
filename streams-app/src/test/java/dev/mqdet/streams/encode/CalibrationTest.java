package dev.mqdet.streams.encode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class CalibrationTest {

    @Test
    void theCutLiesJustAboveTheLookAlikesWhenTheExemplarsScoreHigher() {
        assertThat(Calibration.choose(List.of(0.8f, 0.7f, 0.9f), List.of(0.2f, 0.45f, 0.1f))).isEqualTo(0.451f, within(1e-6f));
    }

    @Test
    void aLookAlikeAboveOneExemplarCostsThatExemplarOnlyWhenItPays() {
        // cutting above 0.75 loses the 0.7 exemplar but drops two look-alikes: one more kept than lost
        assertThat(Calibration.choose(List.of(0.8f, 0.7f, 0.9f), List.of(0.72f, 0.75f))).isEqualTo(0.751f, within(1e-6f));
        // one look-alike above one exemplar: a draw, and the lower cut keeps the recall
        assertThat(Calibration.choose(List.of(0.8f, 0.7f), List.of(0.75f, 0.1f))).isEqualTo(0.101f, within(1e-6f));
    }

    @Test
    void withoutLookAlikesThereIsNothingToCalibrate() {
        assertThat(Calibration.choose(List.of(0.6f, 0.7f), List.of())).isNull();
    }
}
