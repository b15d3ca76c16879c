package dev.mqdet.registry;

import dev.mqdet.registry.cli.RegistryCommand;
import picocli.CommandLine;

/** {@code ./mqdet registry ...}: {@code serve} runs the service, every other subcommand is a client of its HTTP API. */
public final class RegistryMain {
    private RegistryMain() {}

    public static void main(String[] args) {
        // serve blocks inside execute until the JVM is stopped; every other subcommand returns its exit code.
        System.exit(RegistryCommand.commandLine().execute(args));
    }
}
