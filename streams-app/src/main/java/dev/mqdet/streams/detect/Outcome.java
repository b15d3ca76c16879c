package dev.mqdet.streams.detect;

import dev.mqdet.events.DetectionEvent;

/** What became of one event of a batch: its detection event, or the stage and error of its dead letter. */
record Outcome(Pending pending, DetectionEvent detection, String stage, Exception error) {

    static Outcome detected(Pending pending, DetectionEvent detection) {
        return new Outcome(pending, detection, null, null);
    }

    static Outcome failed(Pending pending, String stage, Exception error) {
        return new Outcome(pending, null, stage, error);
    }
}
