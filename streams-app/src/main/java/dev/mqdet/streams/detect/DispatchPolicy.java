package dev.mqdet.streams.detect;

import java.util.Locale;

/**
 * When the next batch starts. {@code EAGER} (the default) follows Triton's dynamic batcher: a batch starts as soon
 * as a predictor is free, with whatever is waiting, so a single event at low load goes straight to the model; only
 * while every predictor is busy do events wait and batches fill, and one batch more than the predictors may then
 * be formed and decoded ahead, when it is full or its oldest event has waited {@code maxWaitMs}. {@code FILL} is
 * the policy before it, kept for comparison: a batch starts only when full or after {@code maxWaitMs}.
 */
public final class DispatchPolicy {

    public enum Mode {
        EAGER, FILL;

        public static Mode parse(String value) {
            try {
                return valueOf(value.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown dispatch policy '" + value + "': use eager or fill");
            }
        }
    }

    private final Mode mode;
    private final int predictors;
    private final int maxInFlight;
    private final int batchSize;
    private final long maxWaitMs;

    DispatchPolicy(Mode mode, int predictors, int maxInFlight, int batchSize, long maxWaitMs) {
        this.mode = mode;
        this.predictors = predictors;
        this.maxInFlight = maxInFlight;
        this.batchSize = batchSize;
        this.maxWaitMs = maxWaitMs;
    }

    /**
     * Whether a batch should start now.
     *
     * @param ready events joined with their query set and waiting for a batch
     * @param fullBatch whether some query set has a full batch waiting
     * @param oldestWaitMs how long the oldest ready event has waited
     * @param inFlight batches of this task handed to inference and not yet answered
     */
    boolean startNow(int ready, boolean fullBatch, long oldestWaitMs, int inFlight) {
        if (ready == 0 || inFlight >= maxInFlight) {
            return false;
        }
        if (mode == Mode.EAGER && inFlight < predictors) {
            return true;
        }
        return fullBatch || oldestWaitMs >= maxWaitMs;
    }

    /** Whether a full batch has to wait for a job slot: the stream thread then waits (bounded) for the oldest job. */
    boolean mustWaitForSlot(boolean fullBatch, int inFlight) {
        return fullBatch && inFlight >= maxInFlight;
    }

    int batchSize() {
        return batchSize;
    }
}
