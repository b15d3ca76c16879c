package dev.mqdet.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class MqDetModelOptionsTest {

    @Test
    void builderStartsFromTheDocumentedDefaults() {
        MqDetModel.Options options = MqDetModel.Options.builder().optPoolSize(2).optScoreThreshold(0.45f).build();
        assertThat(options).isEqualTo(new MqDetModel.Options("auto", 2, 0.45f, 0.5f, 100, 100, 40_000_000L, 32 << 20, 1f));
        assertThat(MqDetModel.Options.defaults().poolSize()).isEqualTo(1);
    }

    @Test
    void anOutOfRangeOptionIsRefusedByName() {
        assertThatThrownBy(() -> MqDetModel.Options.builder().optPoolSize(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("poolSize = 0");
        assertThatThrownBy(() -> MqDetModel.Options.builder().optScoreThreshold(1.5f).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("scoreThreshold = 1.5");
        assertThatThrownBy(() -> MqDetModel.Options.builder().optNmsIou(0f).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nmsIou");
    }

    @Test
    void predictorsShareTheCoresAndEachKeepsAtLeastOne() {
        int cores = Runtime.getRuntime().availableProcessors();
        assertThat(MqDetModel.intraOpThreads(1)).isEqualTo(cores);
        assertThat(MqDetModel.intraOpThreads(2)).isEqualTo(Math.max(1, cores / 2));
        assertThat(MqDetModel.intraOpThreads(cores * 4)).isEqualTo(1);
    }
}
