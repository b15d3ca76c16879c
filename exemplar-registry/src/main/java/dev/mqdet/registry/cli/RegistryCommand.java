package dev.mqdet.registry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mqdet.registry.RegistryServer;
import dev.mqdet.registry.config.RegistryConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The {@code registry} command line: {@code serve} starts the service; the other subcommands call a running
 * service's HTTP API, print its JSON answer on stdout, and on a refusal print the problem (with field errors) on
 * stderr and exit 1. Exit code 2 is a usage error.
 */
@Command(name = "registry", mixinStandardHelpOptions = true,
        description = "The exemplar registry: manage query sets (categories with text labels and exemplar images).",
        subcommands = {
            RegistryCommand.Serve.class, RegistryCommand.ListSets.class, RegistryCommand.Get.class, RegistryCommand.Add.class,
            RegistryCommand.AddExemplar.class, RegistryCommand.RemoveExemplar.class, RegistryCommand.Feedback.class, RegistryCommand.SetLabel.class,
            RegistryCommand.SetThreshold.class, RegistryCommand.DeleteCategory.class, RegistryCommand.Rename.class, RegistryCommand.DeleteQuerySet.class})
public final class RegistryCommand implements Runnable {

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    /** The command line, with failures (unreadable image, bad setting) reported in one line rather than a stack trace. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new RegistryCommand());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            String message = e instanceof java.nio.file.NoSuchFileException ? "no such file: " + e.getMessage() : e.getMessage();
            cmd.getErr().println("error: " + (message == null ? e.toString() : message));
            cmd.getErr().flush();
            return 1;
        });
        return cl;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand");
    }

    /** Where the service is and the token to use; both default from the environment. */
    static final class Connection {
        @Option(names = "--url", defaultValue = "${env:MQDET_REGISTRY_URL:-http://127.0.0.1:8088}",
                description = "Base URL of the registry (env MQDET_REGISTRY_URL; default ${DEFAULT-VALUE}).")
        String url;

        @Option(names = "--token", defaultValue = "${env:MQDET_REGISTRY_TOKEN}",
                description = "Bearer token (env MQDET_REGISTRY_TOKEN; prefer the environment: arguments show in ps).")
        String token;

        @Option(names = "--token-file", description = "Read the bearer token from this file.")
        Path tokenFile;

        RegistryClient client() throws IOException {
            String t = tokenFile != null ? Files.readString(tokenFile).trim() : token;
            return new RegistryClient(url, t);
        }
    }

    /** Shared by the client subcommands: run the call, print the outcome, map it to an exit code. */
    abstract static class ClientCommand implements Callable<Integer> {
        @Mixin
        Connection connection;

        @Spec
        CommandSpec spec;

        abstract RegistryClient.Response call(RegistryClient client) throws Exception;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            RegistryClient.Response response;
            try {
                response = call(connection.client());
            } catch (ConnectException e) {
                err.println("error: cannot reach the registry at " + connection.url + " (is it running? set --url or MQDET_REGISTRY_URL)");
                err.flush();
                return 1;
            }
            if (response.ok()) {
                if (!response.body().isEmpty()) {
                    out.println(JSON.writeValueAsString(JSON.readTree(response.body())));
                }
                out.flush();
                return 0;
            }
            err.println(describeProblem(response));
            err.flush();
            return 1;
        }
    }

    static String describeProblem(RegistryClient.Response response) {
        try {
            JsonNode p = JSON.readTree(response.body());
            StringBuilder s = new StringBuilder("error: ").append(response.status()).append(' ')
                    .append(p.path("title").asText("")).append(": ").append(p.path("detail").asText(""));
            for (JsonNode e : p.path("errors")) {
                s.append(System.lineSeparator()).append("  ").append(e.path("field").asText()).append(": ").append(e.path("message").asText());
            }
            return s.toString();
        } catch (IOException | RuntimeException e) {
            return "error: HTTP " + response.status() + ": " + response.body();
        }
    }

    /** {@code path/to/img.jpg:x1,y1,x2,y2} to the API's exemplar JSON; the image type is detected by the service. */
    static ObjectNode exemplar(String spec) throws IOException {
        int colon = spec.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("exemplar '" + spec + "' should be IMAGE_FILE:x1,y1,x2,y2");
        }
        Path file = Path.of(spec.substring(0, colon));
        String[] box = spec.substring(colon + 1).split(",");
        if (box.length != 4) {
            throw new IllegalArgumentException("exemplar '" + spec + "': the box should be four numbers x1,y1,x2,y2");
        }
        ObjectNode e = JSON.createObjectNode();
        e.putObject("image").put("data", Base64.getEncoder().encodeToString(Files.readAllBytes(file)));
        ObjectNode b = e.putObject("box");
        String[] names = {"x1", "y1", "x2", "y2"};
        for (int i = 0; i < 4; i++) {
            try {
                b.put(names[i], Double.parseDouble(box[i].trim()));
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException("exemplar '" + spec + "': '" + box[i] + "' is not a number");
            }
        }
        return e;
    }

    static ArrayNode exemplars(List<String> specs) throws IOException {
        ArrayNode array = JSON.createArrayNode();
        for (String s : specs) {
            array.add(exemplar(s));
        }
        return array;
    }

    static String path(String querySetId, String categoryId) {
        return "/api/query-sets/" + querySetId + (categoryId == null ? "" : "/categories/" + categoryId);
    }

    @Command(name = "serve", mixinStandardHelpOptions = true, description = "Run the registry service (HTTP API, web page).")
    static final class Serve implements Callable<Integer> {
        @Option(names = "--config", defaultValue = "${env:MQDET_REGISTRY_CONFIG}", description = "Properties file (env MQDET_REGISTRY_CONFIG).")
        Path config;

        @Option(names = "--port", description = "Port to listen on (overrides registry.port).")
        Integer port;

        @Option(names = "--host", description = "Address to listen on (overrides registry.host).")
        String host;

        @Override
        public Integer call() {
            RegistryConfig c = RegistryConfig.fromSources(Optional.ofNullable(config), System.getenv());
            if (port != null) {
                c = c.with("registry.port", String.valueOf(port));
            }
            if (host != null) {
                c = c.with("registry.host", host);
            }
            RegistryServer server = RegistryServer.start(c);
            server.awaitShutdown();
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List query sets.")
    static final class ListSets extends ClientCommand {
        @Override
        RegistryClient.Response call(RegistryClient client) throws Exception {
            return client.send("GET", "/api/query-sets", null, Map.of());
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show a query set, or one category.")
    static final class Get extends ClientCommand {
        @Option(names = "--query-set", required = true) String querySet;
        @Option(names = "--category") String category;

        @Override
        RegistryClient.Response call(RegistryClient client) throws Exception {
            return client.send("GET", path(querySet, category), null, Map.of());
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Add a category (creating the query set if needed) with a label and/or exemplars.")
    static final class Add extends ClientCommand {
        @Option(names = "--query-set", required = true) String querySet;
        @Option(names = "--category", required = true) String category;
        @Option(names = "--label", description = "The category's text query.") String label;
        @Option(names = "--exemplar", paramLabel = "IMAGE:x1,y1,x2,y2", description = "An exemplar image and the box around the object, in pixels; repeatable.")
        List<String> exemplars = new ArrayList<>();
        @Option(names = "--replace", description = "Replace the category if it exists (default: refuse).") boolean replace;
        @Option(names = "--score-threshold", description = "The category's own score threshold, 0 to 1 (default: the pipeline's).")
        Double scoreThreshold;

        @Override
        RegistryClient.Response call(RegistryClient client) throws Exception {
            ObjectNode body = JSON.createObjectNode();
            if (label != null) {
                body.put("label", label);
            }
            if (scoreThreshold != null) {
                body.put("scoreThreshold", scoreThreshold);
            }
            body.set("exemplars", exemplars(exemplars));
            Map<String, String> headers = new HashMap<>();
            if (!replace) {
                headers.put("If-None-Match", "*");
            }
            return client.send("PUT", path(querySet, category), JSON.writeValueAsBytes(body), headers);
        }
    }

    @Command(name = "add-exemplar", mixinStandardHelpOptions = true, description = "Add exemplars to an existing category.")
    static final class AddExemplar extends ClientCommand {
        @Option(names = "--query-set", required = true) String querySet;
        @Option(names = "--category", required = true) String category;
        @Option(names = "--exemplar", required = true, paramLabel = "IMAGE:x1,y1,x2,y2") List<String> exemplars;
        @Option(names = "--negative", description = "Negative exemplars: things that are NOT this category (a look-alike it keeps detecting).")
        boolean negative;

        @Override
        RegistryClient.Response call(RegistryClient client) throws Exception {
            ObjectNode body = JSON.createObjectNode();
            body.set("exemplars", exemplars(exemplars));
            return client.send("POST", path(querySet, category) + (negative ? "/negatives" : "/exemplars"), JSON.writeValueAsBytes(body), Map.of());
        }
    }

    @Command(name = "remove-exemplar", mixinStandardHelpOptions = true, description = "Remove one exemplar from a category.")
    static final class RemoveExemplar extends ClientCommand {
        @Option(names = "--query-set", required = true) String querySet;
        @Option(names = "--category", required = true) String category;
        @Option(names = "--exemplar-id", required = true) String exemplarId;
        @Option(names = "--negative", description = "The exemplar is a negative one.") boolean negative;

        @Override
        RegistryClient.Response call(RegistryClient client) throws Exception {
            return client.send("DELETE", path(querySet, category) + (negative ? "/negatives/" : "/exemplars/") + exemplarId, null, Map.of());
        }
    }

    @Command(name = "feedback", mixinStandardHelpOptions = true,
            description = "Judge a detection of a recent event (still in the registry's live view): confirm adds its box as an exemplar"
                    + " of its category, reject adds it as a negative exemplar.")
    static final class Feedback extends ClientCommand {
        @Option(names = "--query-set", required = true) String querySet;
        @Option(names = "--event", required = true, description = "The detection event's eventId.") String eventId;
        @Option(names = "--detection", required = true, description = "Index of the detection in the event, from 0.") int detection;
        @Option(names = "--verdict", required = true, description = "confirm or reject.") String verdict;

        @Override
        RegistryClient.Response call(RegistryClient client) throws Exception {
            ObjectNode body = JSON.createObjectNode().put("eventId", eventId).put("detection", detection).put("verdict", verdict);
            return client.send("POST", path(querySet, null) + "/feedback", JSON.writeValueAsBytes(body), Map.of());
        }
    }

    @Command(name = "set-label", mixinStandardHelpOptions = true, description = "Change a category's label (--no-label: vision-only).")
    static final class SetLabel extends ClientCommand {
        @Option(names = "--query-set", required = true) String querySet;
        @Option(names = "--category", required = true) String category;
        @CommandLine.ArgGroup(multiplicity = "1") LabelChoice choice;

        static final class LabelChoice {
            @Option(names = "--label") String label;
            @Option(names = "--no-label") boolean none;
        }

        @Override
        RegistryClient.Response call(RegistryClient client) throws Exception {
            ObjectNode body = JSON.createObjectNode();
            if (choice.none) {
                body.putNull("label");
            } else {
                body.put("label", choice.label);
            }
            return client.send("PATCH", path(querySet, category), JSON.writeValueAsBytes(body), Map.of());
        }
    }

    @Command(name = "set-threshold", mixinStandardHelpOptions = true,
            description = "Set a category's own score threshold (--default: back to the pipeline's).")
    static final class SetThreshold extends ClientCommand {
        @Option(names = "--query-set", required = true) String querySet;
        @Option(names = "--category", required = true) String category;
        @CommandLine.ArgGroup(multiplicity = "1") ThresholdChoice choice;

        static final class ThresholdChoice {
            @Option(names = "--value", description = "0 to 1") Double value;
            @Option(names = "--default") boolean none;
        }

        @Override
        RegistryClient.Response call(RegistryClient client) throws Exception {
            ObjectNode body = JSON.createObjectNode();
            if (choice.none) {
                body.putNull("scoreThreshold");
            } else {
                body.put("scoreThreshold", choice.value);
            }
            return client.send("PATCH", path(querySet, category), JSON.writeValueAsBytes(body), Map.of());
        }
    }

    @Command(name = "delete-category", mixinStandardHelpOptions = true, description = "Delete a category (writes a tombstone).")
    static final class DeleteCategory extends ClientCommand {
        @Option(names = "--query-set", required = true) String querySet;
        @Option(names = "--category", required = true) String category;

        @Override
        RegistryClient.Response call(RegistryClient client) throws Exception {
            return client.send("DELETE", path(querySet, category), null, Map.of());
        }
    }

    @Command(name = "rename", mixinStandardHelpOptions = true, description = "Rename a query set (moves every category to the new id).")
    static final class Rename extends ClientCommand {
        @Option(names = "--query-set", required = true) String querySet;
        @Option(names = "--to", required = true) String newId;

        @Override
        RegistryClient.Response call(RegistryClient client) throws Exception {
            ObjectNode body = JSON.createObjectNode().put("newId", newId);
            return client.send("POST", path(querySet, null) + "/rename", JSON.writeValueAsBytes(body), Map.of());
        }
    }

    @Command(name = "delete-query-set", mixinStandardHelpOptions = true, description = "Delete a query set (a tombstone per category).")
    static final class DeleteQuerySet extends ClientCommand {
        @Option(names = "--query-set", required = true) String querySet;

        @Override
        RegistryClient.Response call(RegistryClient client) throws Exception {
            return client.send("DELETE", path(querySet, null), null, Map.of());
        }
    }
}
