package dev.mqdet.streams;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The streams app as a separate process, for tests that kill it without a clean close. */
final class ChildApps {
    private ChildApps() {}

    /** Starts {@link StreamsMain} with {@code settings}; its output goes to a log file named after {@code name}. */
    static Process launch(Map<String, String> settings, String name) throws IOException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-Xmx1g", "-cp", System.getProperty("java.class.path"), StreamsMain.class.getName()));
        settings.forEach((key, value) -> command.addAll(List.of("--set", key + "=" + value)));
        File log = TestPipelines.tempDir(name + "-log").resolve("app.log").toFile();
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log).start();
    }
}
