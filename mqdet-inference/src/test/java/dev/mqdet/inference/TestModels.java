package dev.mqdet.inference;

import dev.mqdet.inference.eval.EvalSet;
import java.nio.file.Path;

/** The model package and evaluation set the tests run on: the shipped ones from the repository. */
public final class TestModels {
    private TestModels() {}

    public static Path repoRoot() {
        return Path.of(System.getProperty("mqdet.repo.root", "..")).toAbsolutePath().normalize();
    }

    public static ModelPackage shippedPackage() {
        String override = System.getProperty("mqdet.test.model");
        return ModelPackage.load(override != null ? Path.of(override) : repoRoot().resolve("models").resolve(ModelPackage.SHIPPED_NAME));
    }

    public static EvalSet evalSet() {
        return EvalSet.load(repoRoot().resolve("models/synth-eval"));
    }
}
