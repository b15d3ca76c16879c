package dev.mqdet.inference.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mqdet.inference.ModelPackage;
import dev.mqdet.inference.MqDetModel;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./mqdet eval [--json]}: AP of a model package on the held-out set, computed through the Java inference path. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "COCO-style AP/AP50 of a model package on the held-out set: 3 splits x 3 query modes, 5 exemplars.")
public final class EvalCommand implements Callable<Integer> {

    @Option(names = "--json", description = "Print {\"splits\": {SPLIT: {MODE: {\"ap\": .., \"ap50\": ..}}}} instead of a table.")
    boolean json;

    @Option(names = "--model", description = "Model package folder (default: the shipped package).")
    Path model;

    @Option(names = "--eval-set", description = "Evaluation set folder (default: ${DEFAULT-VALUE}).", defaultValue = "models/synth-eval")
    Path evalSet;

    @Option(names = "--shots", defaultValue = "5", description = "Exemplars per category (default: ${DEFAULT-VALUE}).")
    int shots;

    @Option(names = "--batch", defaultValue = "8", description = "Images per forward (default: ${DEFAULT-VALUE}).")
    int batch;

    public static void main(String[] args) {
        System.exit(new CommandLine(new EvalCommand()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (evalSet == null) {
            evalSet = Path.of(System.getenv().getOrDefault("MQDET_HOME", ".")).resolve("models/synth-eval");
        }
        ModelPackage pkg = model == null ? ModelPackage.shipped() : ModelPackage.load(model);
        long started = System.nanoTime();
        Map<String, Map<String, Map<String, Double>>> splits;
        try (MqDetModel mqdet = MqDetModel.load(pkg, Evaluation.referenceOptions())) {
            splits = Evaluation.run(mqdet, EvalSet.load(evalSet), shots, batch);
        }
        if (json) {
            System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(Map.of("splits", splits)));
        } else {
            System.out.println(table(splits, pkg.modelId()));
            System.err.printf("eval took %.1f s%n", (System.nanoTime() - started) / 1e9);
        }
        return 0;
    }

    static String table(Map<String, Map<String, Map<String, Double>>> splits, String modelId) {
        StringBuilder out = new StringBuilder("model " + modelId + ", held-out novel categories, " + "AP / AP50 (percent)\n");
        out.append("| split | text AP | text AP50 | vision AP | vision AP50 | text+vision AP | text+vision AP50 |\n");
        out.append("|---|---|---|---|---|---|---|\n");
        for (String split : Evaluation.SPLITS) {
            out.append("| ").append(split);
            for (String mode : Evaluation.MODES) {
                Map<String, Double> v = splits.get(split).get(mode);
                out.append(String.format(" | %.1f | %.1f", v.get("ap"), v.get("ap50")));
            }
            out.append(" |\n");
        }
        return out.toString();
    }
}
