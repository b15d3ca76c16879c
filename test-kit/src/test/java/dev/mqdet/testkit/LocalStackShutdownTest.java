package dev.mqdet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGTERM to a process that started a local stack leaves no registry child behind and frees its port. */
class LocalStackShutdownTest {

    @Test
    void sigtermStopsTheRegistryChildAndFreesItsPort(@TempDir Path dir) throws Exception {
        try (ChildJvm child = ChildJvm.start(LocalStackMain.class.getName(), List.of(), Map.of(), dir.resolve("stack.log"))) {
            String ready = awaitReady(child, Duration.ofMinutes(2));
            String[] parts = ready.split(" ");
            int port = Integer.parseInt(parts[1]);
            List<ProcessHandle> children = child.descendants();
            assertThat(children).as("the registry runs as a child of the stack's process").isNotEmpty();
            assertThat(ChildJvm.listening(port)).isTrue();

            Duration took = child.terminate(Duration.ofSeconds(30));

            assertThat(took).as("exited within 30 s of SIGTERM; log:%n%s", child.log()).isNotNull();
            assertThat(children).as("no child of the stack's process is left").noneMatch(ProcessHandle::isAlive);
            assertThat(ChildJvm.listening(port)).as("port %d is free", port).isFalse();
        }
    }

    private static String awaitReady(ChildJvm child, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String ready = child.log().lines().filter(l -> l.startsWith("READY ")).findFirst().orElse(null);
            if (ready != null) {
                return ready;
            }
            assertThat(child.isAlive()).as("the stack process is running; log:%n%s", child.log()).isTrue();
            Thread.sleep(200);
        }
        throw new AssertionError("no READY line within " + timeout + "; log:\n" + child.log());
    }
}
