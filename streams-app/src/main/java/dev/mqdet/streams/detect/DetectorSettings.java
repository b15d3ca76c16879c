package dev.mqdet.streams.detect;

import dev.mqdet.events.ImageEvent;
import dev.mqdet.inference.MqDetModel;
import dev.mqdet.streams.ops.PipelineMetrics;
import java.util.Objects;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Everything the detection processor needs, shared by all its instances (one per task). Built with
 * {@link #builder()}: every limit has a name and a default, so a call site reads as what it sets.
 */
public final class DetectorSettings {

    final MqDetModel model;
    final Deserializer<ImageEvent> images;
    final ImageSource imageSource;
    final QuerySets querySets;
    final PipelineMetrics metrics;
    final int batchSize;
    final long maxWaitMs;
    final DispatchPolicy.Mode dispatch;
    final boolean pipelined;
    final boolean commitOnAnswer;
    final long unknownQuerySetWaitMs;
    final int maxWaitingForQuerySet;
    final int maxCategories;
    final long maxStreamThreadBlockMs;
    final BufferBudget bufferBudget;
    final DecodeGate decodeGate;

    private DetectorSettings(Builder b) {
        this.model = Objects.requireNonNull(b.model, "model");
        this.images = Objects.requireNonNull(b.images, "images deserializer");
        this.imageSource = Objects.requireNonNull(b.imageSource, "image source");
        this.querySets = Objects.requireNonNull(b.querySets, "query sets");
        this.metrics = Objects.requireNonNull(b.metrics, "metrics");
        this.batchSize = positive("batch size", b.batchSize);
        this.maxWaitMs = b.maxWaitMs;
        this.dispatch = b.dispatch;
        this.pipelined = b.pipelined;
        this.commitOnAnswer = b.commitOnAnswer;
        this.unknownQuerySetWaitMs = b.unknownQuerySetWaitMs;
        this.maxWaitingForQuerySet = positive("max waiting for a query set", b.maxWaitingForQuerySet);
        this.maxCategories = positive("max categories", b.maxCategories);
        this.maxStreamThreadBlockMs = b.maxStreamThreadBlockMs;
        // One of each per instance: every task shares them.
        this.bufferBudget = new BufferBudget(b.maxBufferedEvents, b.maxBufferedBytes);
        this.decodeGate = new DecodeGate(b.maxConcurrentDecodes);
    }

    private static int positive(String what, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(what + " must be at least 1, got " + value);
        }
        return value;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder of {@link DetectorSettings}; the model, deserializer, image source, query sets and metrics are required. */
    public static final class Builder {
        private MqDetModel model;
        private Deserializer<ImageEvent> images;
        private ImageSource imageSource;
        private QuerySets querySets;
        private PipelineMetrics metrics;
        private int batchSize = 8;
        private long maxWaitMs = 100;
        private DispatchPolicy.Mode dispatch = DispatchPolicy.Mode.EAGER;
        private boolean pipelined = true;
        private boolean commitOnAnswer = true;
        private long unknownQuerySetWaitMs = 30_000;
        private int maxWaitingForQuerySet = 10_000;
        private int maxCategories = 2_000;
        private long maxStreamThreadBlockMs = 5_000;
        private int maxBufferedEvents = 10_000;
        private long maxBufferedBytes = 256L << 20;
        private int maxConcurrentDecodes = 4;

        private Builder() {}

        public Builder optModel(MqDetModel model) {
            this.model = model;
            return this;
        }

        public Builder optImages(Deserializer<ImageEvent> images) {
            this.images = images;
            return this;
        }

        public Builder optImageSource(ImageSource imageSource) {
            this.imageSource = imageSource;
            return this;
        }

        public Builder optQuerySets(QuerySets querySets) {
            this.querySets = querySets;
            return this;
        }

        public Builder optMetrics(PipelineMetrics metrics) {
            this.metrics = metrics;
            return this;
        }

        /** Most images per forward. */
        public Builder optBatchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        /** Longest an event waits for more events to join its batch, when the policy waits at all. */
        public Builder optMaxWaitMs(long maxWaitMs) {
            this.maxWaitMs = maxWaitMs;
            return this;
        }

        /** When a batch starts: as soon as a predictor is free ({@code EAGER}) or when full or timed out ({@code FILL}). */
        public Builder optDispatch(DispatchPolicy.Mode dispatch) {
            this.dispatch = dispatch;
            return this;
        }

        /** Inference on task worker threads while the stream thread reads on (true), or on the stream thread. */
        public Builder optPipelined(boolean pipelined) {
            this.pipelined = pipelined;
            return this;
        }

        /**
         * Request a commit once a batch's answers are forwarded and the task's buffer has drained (true): under
         * exactly-once a read_committed consumer sees a detection only when its transaction commits, so at low load
         * this takes the wait for the next {@code commit.interval.ms} out of every event's latency. Under load the
         * buffer rarely drains and commits stay at the interval, so waiting images are not copied to the changelog.
         */
        public Builder optCommitOnAnswer(boolean commitOnAnswer) {
            this.commitOnAnswer = commitOnAnswer;
            return this;
        }

        /** How long an event whose query set is not (yet) encoded waits for it before it is dead-lettered. */
        public Builder optUnknownQuerySetWaitMs(long unknownQuerySetWaitMs) {
            this.unknownQuerySetWaitMs = unknownQuerySetWaitMs;
            return this;
        }

        /** Most events per task waiting for an unknown query set; more are dead-lettered at once. */
        /** Caps on what the instance holds in its batch buffers, over all tasks; an event over them is dead-lettered. */
        public Builder optBufferCaps(int maxEvents, long maxBytes) {
            this.maxBufferedEvents = maxEvents;
            this.maxBufferedBytes = maxBytes;
            return this;
        }

        /** Images the instance fetches and decodes at once, over all tasks. */
        public Builder optMaxConcurrentDecodes(int maxConcurrentDecodes) {
            this.maxConcurrentDecodes = maxConcurrentDecodes;
            return this;
        }

        public Builder optMaxWaitingForQuerySet(int maxWaitingForQuerySet) {
            this.maxWaitingForQuerySet = maxWaitingForQuerySet;
            return this;
        }

        /** Most categories a query set may have; events of a larger one are dead-lettered. */
        public Builder optMaxCategories(int maxCategories) {
            this.maxCategories = maxCategories;
            return this;
        }

        /** Longest the stream thread waits for an inference job before it goes back to Kafka (commits, polls). */
        public Builder optMaxStreamThreadBlockMs(long maxStreamThreadBlockMs) {
            this.maxStreamThreadBlockMs = maxStreamThreadBlockMs;
            return this;
        }

        public DetectorSettings build() {
            return new DetectorSettings(this);
        }
    }
}
