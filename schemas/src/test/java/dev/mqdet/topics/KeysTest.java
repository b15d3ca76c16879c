package dev.mqdet.topics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class KeysTest {

    @Test
    void buildsAndSplitsCompositeKeys() {
        assertThat(Keys.query("wildlife", "bat-animal")).isEqualTo("wildlife/bat-animal");
        assertThat(Keys.embedding("mqdet-synth-v1", "wildlife", "bat-animal")).isEqualTo("mqdet-synth-v1/wildlife/bat-animal");
        assertThat(Keys.embedding("m", "qs", "c")).startsWith(Keys.embeddingPrefix("m", "qs"));
        assertThat(Keys.split("wildlife/bat-animal", 2)).containsExactly("wildlife", "bat-animal");
    }

    @Test
    void refusesIdsThatCouldBreakKeysOrPaths() {
        assertThatThrownBy(() -> Keys.query("wild/life", "c")).hasMessageContaining("querySetId 'wild/life'");
        assertThatThrownBy(() -> Keys.query("qs", "..\u0000")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Keys.query("", "c")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Keys.split("a/b/c", 2)).hasMessageContaining("should have 2 ids");
        assertThat(Keys.isValidId("x".repeat(129))).isFalse();
    }

    @Test
    void compactedTablesAreCompacted() {
        assertThat(Topics.EXEMPLAR_QUERIES.topicConfig()).containsEntry("cleanup.policy", "compact");
        assertThat(Topics.EXEMPLAR_EMBEDDINGS.topicConfig()).containsEntry("cleanup.policy", "compact");
        assertThat(Topics.IMAGES.topicConfig()).containsEntry("cleanup.policy", "delete");
    }
}
