package dev.mqdet.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mqdet.schemaregistry.SchemaRegistryUnavailableException;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.Test;

/** What the app does when a stream thread dies: retry what may pass, stop on what cannot. */
class StreamThreadFailureTest {

    @Test
    void aTransientFailureReplacesTheThread() {
        var unreachable = new StreamsException(new SchemaRegistryUnavailableException("registry down", null));
        assertThat(PipelineApp.onStreamThreadFailure(unreachable)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
    }

    @Test
    void aJvmErrorStopsTheInstanceInsteadOfLooping() {
        var outOfMemory = new StreamsException(new IllegalStateException("inference job", new OutOfMemoryError("Java heap space")));
        assertThat(PipelineApp.onStreamThreadFailure(outOfMemory)).isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
    }
}
