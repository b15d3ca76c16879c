package dev.mqdet.streams.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker/up.sh against a stand-in {@code docker} command (no engine here): the stand-in logs every call and answers
 * {@code inspect}, {@code ps} and {@code port} the way Docker does for a stack whose health checks pass, or for an
 * app that restarts. What is checked is the script's own part: the .env it writes, the order of its calls, its
 * wait, and what it prints.
 */
class UpScriptTest {

    private static final Path ROOT = ComposeFile.repoRoot();
    /** Answers like Docker: every container healthy without restarts, unless STUB_RESTARTS names a service. */
    private static final String STUB = """
            #!/bin/bash
            echo "$*" >> "$STUB_LOG"
            case "$*" in
              "compose version") exit 0 ;;
              *" ps -a -q "*) echo "id-${@: -1}" ;;
              *"{{.State.Status}} {{.State.ExitCode}}"*) echo "exited 0" ;;
              *"id-$STUB_RESTARTS") echo "starting 2" ;;
              inspect*) echo "healthy 0" ;;
              *" port "*) echo "0.0.0.0:4${@: -1}" ;;
            esac
            """;

    @TempDir
    Path temp;

    @Test
    void writesEnvWithATokenBuildsStartsWaitsAndPrintsTheAddresses() throws Exception {
        Path checkout = checkout();
        Result first = run(checkout, "cpu", "");
        assertThat(first.exit()).as(first.output()).isZero();
        List<String> env = Files.readAllLines(checkout.resolve(".env"));
        List<String> example = Files.readAllLines(ROOT.resolve("docker/env.example"));
        assertThat(env).hasSameSizeAs(example);
        String token = env.stream().filter(line -> line.startsWith("MQDET_REGISTRY_TOKEN=")).findFirst().orElseThrow();
        assertThat(token).matches("MQDET_REGISTRY_TOKEN=[0-9a-f]{48}");
        assertThat(Files.getPosixFilePermissions(checkout.resolve(".env"))).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        List<String> calls = Files.readAllLines(temp.resolve("docker.log"));
        assertThat(calls).containsSubsequence("compose --profile cpu build", "compose --profile cpu up -d",
                "compose --profile cpu ps -a -q kafka", "compose --profile cpu ps -a -q topics-init",
                "compose --profile cpu ps -a -q streams-app-cpu");
        assertThat(first.output()).contains("http://localhost:48088/", "http://localhost:48080/health/ready",
                "http://localhost:48081/subjects", "localhost:49094");

        // A second start keeps the .env, and its token.
        Result second = run(checkout, "cpu", "");
        assertThat(second.exit()).as(second.output()).isZero();
        assertThat(Files.readAllLines(checkout.resolve(".env"))).contains(token);
    }

    @Test
    void refusesTheExampleTokenAndReportsACrashLoop() throws Exception {
        Path checkout = checkout();
        Files.copy(ROOT.resolve("docker/env.example"), checkout.resolve(".env"));
        Result example = run(checkout, "gpu", "");
        assertThat(example.exit()).isEqualTo(1);
        assertThat(example.output()).contains("still has the example's MQDET_REGISTRY_TOKEN");

        Files.delete(checkout.resolve(".env"));
        Result loop = run(checkout, "gpu", "streams-app");
        assertThat(loop.exit()).as(loop.output()).isEqualTo(1);
        assertThat(loop.output()).contains("streams-app restarted 2 time(s) before it was healthy");
        assertThat(Files.readAllLines(temp.resolve("docker.log"))).contains("compose --profile gpu logs --tail 60 streams-app");

        assertThat(run(checkout, "tpu", "").exit()).isEqualTo(2);
    }

    private record Result(int exit, String output) {}

    /** The script and the example environment in a checkout of their own, so .env is written there. */
    private Path checkout() throws IOException {
        Path checkout = Files.createDirectories(temp.resolve("checkout/docker"));
        Files.copy(ROOT.resolve("docker/up.sh"), checkout.resolve("up.sh"));
        Files.copy(ROOT.resolve("docker/env.example"), checkout.resolve("env.example"));
        Path bin = Files.createDirectories(temp.resolve("bin"));
        Files.writeString(bin.resolve("docker"), STUB);
        Files.setPosixFilePermissions(bin.resolve("docker"), PosixFilePermissions.fromString("rwxr-xr-x"));
        return checkout.getParent();
    }

    private Result run(Path checkout, String profile, String restarts) throws Exception {
        ProcessBuilder builder = new ProcessBuilder("/bin/bash", checkout.resolve("docker/up.sh").toString(), profile)
                .redirectErrorStream(true);
        builder.environment().put("PATH", temp.resolve("bin") + ":/usr/bin:/bin");
        builder.environment().put("STUB_LOG", temp.resolve("docker.log").toString());
        builder.environment().put("STUB_RESTARTS", restarts);
        Process process = builder.start();
        try {
            String output = new String(process.getInputStream().readAllBytes());
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
            return new Result(process.exitValue(), output);
        } finally {
            process.destroyForcibly();
        }
    }
}
