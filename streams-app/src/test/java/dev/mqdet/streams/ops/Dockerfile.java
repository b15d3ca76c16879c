package dev.mqdet.streams.ops;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Dockerfile read the way the builder reads it, for tests: continuation lines, comments, global ARG defaults,
 * stages ({@code FROM base AS name}, a stage built on an earlier one inherits it), and per stage the ENV it ends
 * with, the runtime user, the entry point and health check, the packages apt installs and the folders chowned.
 */
final class Dockerfile {

    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}|\\$([A-Za-z_][A-Za-z0-9_]*)");

    record Instruction(String keyword, String arguments) {}

    /** One build stage; instructions of the stage it is built on come first. */
    record Stage(String name, String base, List<Instruction> instructions) {

        /** The environment the stage ends with, from its own ENV lines (and those of a parent stage), in order. */
        Map<String, String> env() {
            Map<String, String> env = new LinkedHashMap<>();
            for (Instruction instruction : instructions) {
                if (instruction.keyword().equals("ENV")) {
                    parseEnv(instruction.arguments(), env);
                }
            }
            return env;
        }

        List<String> runs() {
            return instructions.stream().filter(i -> i.keyword().equals("RUN")).map(Instruction::arguments).toList();
        }

        Optional<String> user() {
            return last("USER");
        }

        Optional<String> workdir() {
            return last("WORKDIR");
        }

        /** The exec-form entry point as its words. */
        List<String> entrypoint() {
            return execForm("ENTRYPOINT").orElseThrow(() -> new AssertionError("stage " + name + " has no ENTRYPOINT"));
        }

        /** The exec-form CMD (the entry point's default arguments), empty when there is none. */
        List<String> cmd() {
            return execForm("CMD").orElse(List.of());
        }

        /** Folders the RUN steps create with {@code mkdir -p}. */
        List<String> madeFolders() {
            List<String> paths = new ArrayList<>();
            Matcher mkdir = Pattern.compile("mkdir -p ([^&;|]*)").matcher(String.join("\n", runs()));
            while (mkdir.find()) {
                paths.addAll(List.of(mkdir.group(1).trim().split("\\s+")));
            }
            return paths;
        }

        private Optional<List<String>> execForm(String keyword) {
            return last(keyword).map(json -> {
                try {
                    return new ObjectMapper().readValue(json, new TypeReference<List<String>>() {});
                } catch (IOException e) {
                    throw new AssertionError("stage " + name + ": " + keyword + " is not in exec form: " + json, e);
                }
            });
        }

        /** The health check's command (after CMD), or empty for none or NONE. */
        Optional<String> healthcheck() {
            return last("HEALTHCHECK").filter(h -> !h.equals("NONE")).map(h -> h.substring(h.indexOf("CMD ") + 4).trim());
        }

        /** Packages the stage installs with apt-get. */
        List<String> aptPackages() {
            List<String> packages = new ArrayList<>();
            Matcher install = Pattern.compile("apt-get install ([^&;|]*)").matcher(String.join("\n", runs()));
            while (install.find()) {
                for (String word : install.group(1).trim().split("\\s+")) {
                    if (!word.startsWith("-")) {
                        packages.add(word);
                    }
                }
            }
            return packages;
        }

        /** Folders handed to {@code user} by {@code chown [-R] user[:group] path...} in RUN steps. */
        List<String> chownedTo(String user) {
            List<String> paths = new ArrayList<>();
            Matcher chown = Pattern.compile("chown(?: -R)? " + Pattern.quote(user) + "(?::\\S+)? ([^&;|]*)").matcher(String.join("\n", runs()));
            while (chown.find()) {
                paths.addAll(List.of(chown.group(1).trim().split("\\s+")));
            }
            return paths;
        }

        /** The home folder {@code useradd --home-dir} gives {@code user}. */
        Optional<String> homeOf(String user) {
            Matcher useradd = Pattern.compile("useradd [^&;|]*--home-dir (\\S+)[^&;|]* " + Pattern.quote(user) + "\\b").matcher(String.join("\n", runs()));
            return useradd.find() ? Optional.of(useradd.group(1)) : Optional.empty();
        }

        private Optional<String> last(String keyword) {
            String found = null;
            for (Instruction instruction : instructions) {
                if (instruction.keyword().equals(keyword)) {
                    found = instruction.arguments();
                }
            }
            return Optional.ofNullable(found);
        }
    }

    private final Path file;
    private final Map<String, Stage> stages;

    private Dockerfile(Path file, Map<String, Stage> stages) {
        this.file = file;
        this.stages = stages;
    }

    static Dockerfile load(Path file) {
        try {
            return parse(file, Files.readAllLines(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path file() {
        return file;
    }

    Stage stage(String name) {
        Stage stage = stages.get(name);
        if (stage == null) {
            throw new AssertionError(file + " has no stage " + name + " (stages: " + stages.keySet() + ")");
        }
        return stage;
    }

    /** The stage a plain {@code docker build} without --target builds. */
    Stage last() {
        return stages.values().stream().reduce((a, b) -> b).orElseThrow();
    }

    private static Dockerfile parse(Path file, List<String> lines) {
        Map<String, String> globalArgs = new LinkedHashMap<>();
        Map<String, Stage> stages = new LinkedHashMap<>();
        List<Instruction> current = null;
        String name = null;
        String base = null;
        int unnamed = 0;
        for (String line : logicalLines(lines)) {
            int space = line.indexOf(' ');
            String keyword = (space < 0 ? line : line.substring(0, space)).toUpperCase(Locale.ROOT);
            String arguments = space < 0 ? "" : line.substring(space + 1).trim();
            if (keyword.equals("FROM")) {
                if (current != null) {
                    stages.put(name, new Stage(name, base, current));
                }
                String[] words = arguments.split("\\s+");
                base = expand(words[0], globalArgs);
                name = words.length >= 3 && words[1].equalsIgnoreCase("AS") ? words[2] : "stage-" + unnamed++;
                current = new ArrayList<>();
                Stage parent = stages.get(base);
                if (parent != null) {
                    current.addAll(parent.instructions());
                }
            } else if (current == null) {
                if (keyword.equals("ARG")) {
                    int eq = arguments.indexOf('=');
                    globalArgs.put(eq < 0 ? arguments : arguments.substring(0, eq), eq < 0 ? "" : arguments.substring(eq + 1));
                }
            } else {
                current.add(new Instruction(keyword, arguments));
            }
        }
        if (current != null) {
            stages.put(name, new Stage(name, base, current));
        }
        return new Dockerfile(file, stages);
    }

    /** Lines as the builder sees them: comments dropped, a trailing backslash joins the next line. */
    private static List<String> logicalLines(List<String> lines) {
        List<String> out = new ArrayList<>();
        StringBuilder pending = new StringBuilder();
        for (String raw : lines) {
            String line = raw.strip();
            if (line.startsWith("#") || (line.isEmpty() && pending.isEmpty())) {
                continue;
            }
            if (line.endsWith("\\")) {
                pending.append(line, 0, line.length() - 1).append(' ');
            } else {
                pending.append(line);
                out.add(pending.toString().trim());
                pending.setLength(0);
            }
        }
        if (!pending.isEmpty()) {
            out.add(pending.toString().trim());
        }
        return out;
    }

    /** {@code ENV a=b c="d e"} (or the old {@code ENV a b}), values expanded against what is set so far. */
    private static void parseEnv(String arguments, Map<String, String> env) {
        List<String> words = words(arguments);
        if (!words.isEmpty() && !words.get(0).contains("=")) {
            env.put(words.get(0), expand(arguments.substring(words.get(0).length()).trim(), env));
            return;
        }
        for (String word : words) {
            int eq = word.indexOf('=');
            env.put(word.substring(0, eq), expand(word.substring(eq + 1), env));
        }
    }

    /** Words split on unquoted blanks, with quotes removed and backslash escapes resolved. */
    private static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        char quote = 0;
        boolean inWord = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length() && quote != '\'') {
                word.append(text.charAt(++i));
                inWord = true;
            } else if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    word.append(c);
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }

    /** {@code $VAR}, {@code ${VAR}} and {@code ${VAR:-default}}; a variable of the base image (unknown here) is empty. */
    static String expand(String text, Map<String, String> variables) {
        Matcher m = VARIABLE.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(3);
            String value = variables.get(name);
            if ((value == null || value.isEmpty()) && m.group(2) != null) {
                value = m.group(2);
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value == null ? "" : value));
        }
        m.appendTail(out);
        return out.toString();
    }
}
