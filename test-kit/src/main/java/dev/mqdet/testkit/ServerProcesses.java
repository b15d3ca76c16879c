package dev.mqdet.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/** What the test kit's server processes (Apicurio Registry, S3Mock) share: where the build put them, and their logs. */
final class ServerProcesses {

    private ServerProcesses() {}

    /** A value of {@code test-kit.properties}, written by this module's build. */
    static String property(String key) {
        try (InputStream in = ServerProcesses.class.getResourceAsStream("test-kit.properties")) {
            Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty(key);
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("test-kit.properties is missing from the test-kit jar", e);
        }
    }

    /** The last 30 lines of a server's log, for the message of a failed start. */
    static String logTail(Path logFile) {
        try {
            List<String> lines = Files.readAllLines(logFile);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }

    /** The java executable of this JVM, to start a server with the same Java. */
    static String javaExecutable() {
        return ProcessHandle.current().info().command().orElse("java");
    }
}
