package dev.mqdet.streams.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.security.auth.module.UnixSystem;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One image stage's runtime reproduced on this machine, for tests. An image path {@code /a/b} is {@code root/a/b};
 * the processes get the stage's ENV and nothing else (plus HOME and a PATH, which the base image provides), the
 * stage's working directory, and may write only the folders the stage chowns to its user (and /tmp, world-writable in
 * the image too): the user's home and everything else under the root is read-only. Where the tests run as root, who
 * may write anywhere, the processes run as the stage's uid instead ({@code setpriv}), as the image's USER does.
 */
final class ImageRuntime implements AutoCloseable {

    private static final Path ROOT = ComposeFile.repoRoot();
    /** The part of the base image's PATH a JRE image has; the entry point runs java by absolute path here. */
    private static final String BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private final Dockerfile.Stage stage;
    private final Path root;
    private final String home;
    private final List<String> owned;
    private final int uid;
    private final List<Process> processes = new ArrayList<>();

    private ImageRuntime(Dockerfile.Stage stage, Path root, String home, List<String> owned, int uid) {
        this.stage = stage;
        this.root = root;
        this.home = home;
        this.owned = owned;
        this.uid = uid;
    }

    /**
     * Lays out the stage's folders under {@code root}: {@code /app/lib} (and {@code /app/lib-cpu} where the entry
     * point names it) hold the module's runtime class path, as the image's build copies it there.
     */
    static ImageRuntime prepare(Dockerfile.Stage stage, Path root, String module) throws IOException {
        String user = stage.user().orElseThrow(() -> new AssertionError("stage " + stage.name() + " has no USER"));
        String home = stage.homeOf(user).orElseThrow(() -> new AssertionError("stage " + stage.name() + ": no home of " + user));
        Matcher uid = Pattern.compile("useradd [^&;|]*--uid (\\d+)").matcher(String.join("\n", stage.runs()));
        assertThat(uid.find()).as("stage %s: useradd --uid", stage.name()).isTrue();
        ImageRuntime runtime = new ImageRuntime(stage, root, home, stage.chownedTo(user), Integer.parseInt(uid.group(1)));
        runtime.layOut(module);
        return runtime;
    }

    /** Where an image path lies on this machine. */
    Path hostPath(String imagePath) {
        return root.resolve(imagePath.substring(1));
    }

    /** Whether the processes run as the stage's uid (the tests run as root) rather than as the tests' own user. */
    boolean runsAsImageUser() {
        return currentUid() == 0;
    }

    /**
     * The environment of a process of this image: the stage's ENV, then {@code service} (what compose sets), with
     * every value that names a folder of the image mapped under the root.
     */
    Map<String, String> environment(Map<String, String> service) {
        Map<String, String> env = new LinkedHashMap<>(stage.env());
        env.putAll(service);
        env.replaceAll((name, value) -> mapPaths(value));
        env.put("HOME", hostPath(home).toString());
        env.putIfAbsent("PATH", BASE_PATH);
        return env;
    }

    /**
     * The stage's entry point and CMD as a command for this machine: this JVM's java, the laid-out class path, and
     * the home of the user's passwd entry (which this machine lacks) as user.home.
     */
    List<String> entrypoint() {
        List<String> words = new ArrayList<>(stage.entrypoint());
        words.addAll(stage.cmd());
        return javaCommand(words);
    }

    /** A {@code RUN java ...} step of the stage as a command for this machine. */
    List<String> runStep(String step) {
        List<String> words = new ArrayList<>();
        for (String word : step.split("\\s+")) {
            words.add(word.replace("'", ""));
        }
        return javaCommand(words);
    }

    /** Starts {@code command} as the image's user in its working directory; output goes to {@code log}. */
    Process start(List<String> command, Map<String, String> env, Path log) throws IOException {
        List<String> full = new ArrayList<>();
        if (runsAsImageUser()) {
            full.addAll(List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--"));
        }
        full.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(full).directory(hostPath(stage.workdir().orElse(home)).toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().clear();
        builder.environment().putAll(env);
        Process process = builder.start();
        processes.add(process);
        return process;
    }

    /** Runs {@code command} to its end; asserts exit 0. */
    void run(List<String> command, Map<String, String> env, Path log) throws IOException, InterruptedException {
        Process process = start(command, env, log);
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("%s finished", command).isTrue();
        assertThat(process.exitValue()).as("%s exited with %s:\n%s", command, process.exitValue(), tail(log)).isZero();
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** Stops every process and its children (SIGTERM, then SIGKILL), and makes the root deletable again. */
    @Override
    public void close() {
        for (Process process : processes) {
            process.toHandle().descendants().forEach(ProcessHandle::destroy);
            process.destroy();
        }
        for (Process process : processes) {
            try {
                if (!process.waitFor(15, TimeUnit.SECONDS)) {
                    process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.filter(Files::isDirectory).forEach(dir -> dir.toFile().setWritable(true, true));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** This build's runtime class path of {@code module}: its classes and target/runtime-classpath.txt (parent pom). */
    static List<String> runtimeClassPath(String module) {
        Path classpath = ROOT.resolve(module).resolve("target/runtime-classpath.txt");
        assertThat(classpath).as("%s is written by the Maven build (generate-test-resources)", classpath).exists();
        List<String> entries = new ArrayList<>(List.of(ROOT.resolve(module).resolve("target/classes").toString()));
        try {
            entries.addAll(List.of(Files.readString(classpath).trim().split(File.pathSeparator)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return entries;
    }

    static String javaExecutable() {
        return ProcessHandle.current().info().command().orElseThrow();
    }

    private void layOut(String module) throws IOException {
        List<String> folders = new ArrayList<>(List.of(home, stage.workdir().orElse(home), "/app/lib", "/app/lib-cpu", "/app/tools"));
        folders.addAll(owned);
        folders.addAll(stage.madeFolders());
        for (String folder : folders) {
            Files.createDirectories(hostPath(folder));
        }
        int classes = 0;
        for (String entry : runtimeClassPath(module)) {
            Path from = Path.of(entry);
            // pytorch-native-cpu goes to /app/lib-cpu, as in the image's build (the gpu image leaves it out).
            Path lib = hostPath(entry.contains("pytorch-native-cpu") ? "/app/lib-cpu" : "/app/lib");
            if (Files.isDirectory(from)) {
                copyTree(from, lib.resolve("classes-" + classes++));
            } else {
                link(from, lib.resolve(from.getFileName()));
            }
        }
        if (stage.runs().stream().anyMatch(run -> run.contains("/app/tools"))) {
            // The image's build compiles docker/tools into /app/tools, where its warm-up step runs from.
            int javac = javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", hostPath("/app/tools").toString(),
                    "-cp", String.join(File.pathSeparator, runtimeClassPath(module)), ROOT.resolve("docker/tools/EngineWarmUp.java").toString());
            assertThat(javac).as("javac docker/tools/EngineWarmUp.java").isZero();
        }
        if (runsAsImageUser()) {
            for (String folder : owned) {
                try (Stream<Path> paths = Files.walk(hostPath(folder))) {
                    for (Path path : paths.toList()) {
                        Files.setAttribute(path, "unix:uid", uid);
                        Files.setAttribute(path, "unix:gid", uid);
                    }
                }
            }
        }
        // The user must reach the root (a test's temporary folder is its owner's alone), as it reaches / in the image.
        for (Path dir = root.toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Set<PosixFilePermission> permissions = EnumSet.copyOf(Files.getPosixFilePermissions(dir));
            if (permissions.add(PosixFilePermission.OTHERS_EXECUTE)) {
                Files.setPosixFilePermissions(dir, permissions);
            }
        }
        // Everything not handed to the user is read-only to it, the home folder included.
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path dir : paths.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList()) {
                if (!isOwned(dir)) {
                    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"));
                }
            }
        }
    }

    /** The class path the entry point names (/app/lib/* etc.) becomes the laid-out jars and class folders. */
    private List<String> javaCommand(List<String> words) {
        assertThat(words.get(0)).as("command %s", words).isEqualTo("java");
        List<String> out = new ArrayList<>(List.of(javaExecutable(), "-Duser.home=" + hostPath(home))); // the passwd entry's home
        for (int i = 1; i < words.size(); i++) {
            String word = words.get(i);
            if (word.equals("-cp") || word.equals("-classpath")) {
                out.add(word);
                out.add(hostClassPath(words.get(++i)));
            } else {
                out.add(word);
            }
        }
        return out;
    }

    private String hostClassPath(String imageClassPath) {
        List<String> entries = new ArrayList<>();
        for (String entry : imageClassPath.split(":")) {
            Path folder = hostPath(entry.endsWith("/*") ? entry.substring(0, entry.length() - 2) : entry);
            entries.add(folder + (entry.endsWith("/*") ? "/*" : ""));
            try (Stream<Path> classFolders = Files.list(folder)) {
                classFolders.filter(Files::isDirectory).sorted().forEach(dir -> entries.add(dir.toString()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    private String mapPaths(String value) {
        List<String> parts = new ArrayList<>();
        for (String part : value.split(":", -1)) {
            boolean imagePath = part.startsWith("/") && !part.startsWith("//") && part.length() > 1
                    && Files.exists(hostPath(topFolder(part)));
            parts.add(imagePath ? hostPath(part).toString() : part);
        }
        return String.join(":", parts);
    }

    private static String topFolder(String path) {
        int slash = path.indexOf('/', 1);
        return slash < 0 ? path : path.substring(0, slash);
    }

    private boolean isOwned(Path dir) {
        return owned.stream().anyMatch(folder -> dir.startsWith(hostPath(folder)));
    }

    private static void link(Path from, Path to) throws IOException {
        try {
            Files.createLink(to, from);
        } catch (FileAlreadyExistsException e) {
            throw new AssertionError("two class path entries named " + to.getFileName() + ": the image's /app/lib would hold one", e);
        } catch (IOException | UnsupportedOperationException notLinkable) { // another file system
            Files.copy(from, to);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path path : paths.toList()) {
                Path target = to.resolve(from.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(path, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static long currentUid() {
        return new UnixSystem().getUid();
    }
}
