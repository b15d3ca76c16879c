package dev.mqdet.testkit;

import java.nio.file.Files;

/** Starts a local stack and waits to be stopped, as the demo does; prints the registry's port once it is up. */
public final class LocalStackMain {
    private LocalStackMain() {}

    public static void main(String[] args) throws Exception {
        LocalStack stack = LocalStack.start(Files.createTempDirectory("mqdet-stack-main"));
        System.out.println("READY " + java.net.URI.create(stack.schemaRegistryUrl()).getPort());
        System.out.flush();
        Thread.currentThread().join(); // until SIGTERM; nothing here closes the stack: its own hook must
    }
}
