package dev.mqdet.inference.check;

import dev.mqdet.inference.ModelCheck;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code ./mqdet check-model DIR}: does a model package (for example a user's own MQ-GLIP export) fit the contract? */
@Command(name = "check-model", mixinStandardHelpOptions = true,
        description = "Validate a model package against the contract (models/README.md): model.json, both TorchScript files, "
                + "shapes at several image sizes and 1/40/1,200 categories, the tokenizer on unseen words, box mapping. "
                + "Exit 0 when it conforms, 1 otherwise.")
public final class CheckModelCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "The model package folder.")
    Path dir;

    public static void main(String[] args) {
        System.exit(new CommandLine(new CheckModelCommand()).execute(args));
    }

    @Override
    public Integer call() {
        boolean ok = new ModelCheck(step -> System.out.printf("%-4s %-12s %s%n", step.ok() ? "ok" : "FAIL", step.name(), step.detail())).run(dir);
        System.out.println(ok ? "check-model: " + dir + " conforms" : "check-model: " + dir + " does not conform");
        return ok ? 0 : 1;
    }
}
