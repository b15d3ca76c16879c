package dev.mqdet.streams.ops;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * A compose file read the way Compose reads it, for tests: YAML with anchors and merge keys (SnakeYAML, which the
 * build already has through jackson-dataformat-yaml), and Compose's variable interpolation ({@code ${VAR}},
 * {@code ${VAR:-default}}, {@code ${VAR-default}}, {@code ${VAR:?message}}, {@code $$}).
 */
final class ComposeFile {

    private static final Pattern VARIABLE = Pattern.compile("\\$\\$|\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\\{[^{}]*})*))?}");

    private final Path file;
    private final Map<String, Object> root;

    private ComposeFile(Path file, Map<String, Object> root) {
        this.file = file;
        this.root = root;
    }

    static ComposeFile load(Path file) {
        try {
            Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
            Map<String, Object> root = yaml.load(Files.readString(file));
            return new ComposeFile(file, root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The repository's root folder (surefire sets mqdet.repo.root; tests run in streams-app/). */
    static Path repoRoot() {
        return Path.of(System.getProperty("mqdet.repo.root", "..")).toAbsolutePath().normalize();
    }

    Path file() {
        return file;
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> services() {
        return (Map<String, Object>) root.get("services");
    }

    boolean hasService(String name) {
        return services() != null && services().containsKey(name);
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> service(String name) {
        Object service = services().get(name);
        if (service == null) {
            throw new AssertionError(file + " has no service " + name);
        }
        return (Map<String, Object>) service;
    }

    /** The service's environment as written, before interpolation (map or list form). */
    Map<String, String> rawEnvironment(String service) {
        Object environment = service(service).get("environment");
        Map<String, String> out = new LinkedHashMap<>();
        if (environment instanceof Map<?, ?> map) {
            map.forEach((k, v) -> out.put(String.valueOf(k), v == null ? "" : String.valueOf(v)));
        } else if (environment instanceof List<?> list) {
            for (Object item : list) {
                String entry = String.valueOf(item);
                int eq = entry.indexOf('=');
                out.put(eq < 0 ? entry : entry.substring(0, eq), eq < 0 ? "" : entry.substring(eq + 1));
            }
        }
        return out;
    }

    /** The service's environment with every variable interpolated from {@code variables} (defaults otherwise). */
    Map<String, String> environment(String service, Map<String, String> variables) {
        Map<String, String> out = new LinkedHashMap<>();
        rawEnvironment(service).forEach((k, v) -> out.put(k, interpolate(v, variables)));
        return out;
    }

    /** Any string value of a service, interpolated, e.g. {@code image}. */
    String value(String service, String key, Map<String, String> variables) {
        Object value = service(service).get(key);
        return value == null ? null : interpolate(String.valueOf(value), variables);
    }

    /** Compose's interpolation; {@code ${VAR:?message}} with VAR unset throws, as Compose refuses the file. */
    static String interpolate(String text, Map<String, String> variables) {
        Matcher m = VARIABLE.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String replacement;
            if (m.group().equals("$$")) {
                replacement = "$";
            } else {
                String name = m.group(1);
                String operator = m.group(2);
                String argument = m.group(3) == null ? "" : interpolate(m.group(3), variables);
                String value = variables.get(name);
                boolean unset = value == null || (operator != null && operator.startsWith(":") && value.isEmpty());
                if (operator == null) {
                    replacement = value == null ? "" : value;
                } else if (operator.endsWith("-")) {
                    replacement = unset ? argument : value;
                } else if (unset) {
                    throw new IllegalArgumentException("variable " + name + " is required: " + argument);
                } else {
                    replacement = value;
                }
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** Container ports of a service's {@code ports} (short "host:container", "container" or long syntax). */
    List<Integer> containerPorts(String service) {
        Object ports = service(service).get("ports");
        List<Integer> out = new ArrayList<>();
        if (ports instanceof List<?> list) {
            for (Object port : list) {
                if (port instanceof Map<?, ?> longSyntax) {
                    out.add(Integer.parseInt(String.valueOf(longSyntax.get("target"))));
                } else {
                    String spec = interpolate(String.valueOf(port), Map.of());
                    String container = spec.substring(spec.lastIndexOf(':') + 1).replaceAll("/.*", "");
                    out.add(Integer.parseInt(container));
                }
            }
        }
        return out;
    }

    /** The healthcheck's test command as one string. */
    String healthcheck(String service) {
        Object healthcheck = service(service).get("healthcheck");
        if (!(healthcheck instanceof Map<?, ?> map)) {
            throw new AssertionError("service " + service + " has no healthcheck");
        }
        Object test = map.get("test");
        return test instanceof List<?> list ? String.join(" ", list.stream().map(String::valueOf).toList()) : String.valueOf(test);
    }

    /** The service's {@code volumes} in short syntax, as written ({@code source:target[:mode]}). */
    List<String> volumes(String service) {
        Object volumes = service(service).get("volumes");
        List<String> out = new ArrayList<>();
        if (volumes instanceof List<?> list) {
            for (Object volume : list) {
                if (volume instanceof Map<?, ?>) {
                    throw new AssertionError(file + ": " + service + " uses the long volume syntax, which these checks do not read");
                }
                out.add(String.valueOf(volume));
            }
        }
        return out;
    }

    /** The service's {@code build} section ({@code context}, {@code dockerfile}, {@code target}), or null when it pulls. */
    @SuppressWarnings("unchecked")
    Map<String, Object> build(String service) {
        Object build = service(service).get("build");
        if (build instanceof String context) {
            return Map.of("context", context);
        }
        return (Map<String, Object>) build;
    }

    /** The healthcheck's test as its words ({@code CMD ...} or {@code CMD-SHELL ...}), Compose's {@code $$} read as {@code $}. */
    List<String> healthcheckTest(String service) {
        Object healthcheck = service(service).get("healthcheck");
        if (!(healthcheck instanceof Map<?, ?> map) || !(map.get("test") instanceof List<?> test)) {
            throw new AssertionError("service " + service + " has no healthcheck test in list form");
        }
        return test.stream().map(word -> interpolate(String.valueOf(word), Map.of())).toList();
    }
}
