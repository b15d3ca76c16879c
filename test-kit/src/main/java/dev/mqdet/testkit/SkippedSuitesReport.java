package dev.mqdet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * Writes every test class or test that was skipped (disabled, or an assumption not met: no Chromium, no Docker) to
 * {@code target/skipped-suites.txt} of the module under test, with the reason, so that the end of the build can say
 * what did not run and how to enable it. Registered for every module whose tests have the test kit on their class
 * path (META-INF/services).
 */
public final class SkippedSuitesReport implements TestExecutionListener {

    static final Path REPORT = Path.of("target", "skipped-suites.txt");

    @Override
    public void testPlanExecutionStarted(TestPlan testPlan) {
        try {
            Files.deleteIfExists(REPORT);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void executionSkipped(TestIdentifier test, String reason) {
        record(test, reason);
    }

    @Override
    public void executionFinished(TestIdentifier test, TestExecutionResult result) {
        if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
            record(test, result.getThrowable().map(Throwable::getMessage).orElse("aborted"));
        }
    }

    private static void record(TestIdentifier test, String reason) {
        if (!Files.isDirectory(REPORT.getParent())) {
            return; // not run from a module folder (an IDE, say): nothing to report to
        }
        String name = test.getLegacyReportingName();
        String line = name + ": " + (reason == null ? "skipped" : reason.replaceAll("\\s+", " ")) + System.lineSeparator();
        try {
            Files.writeString(REPORT, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
