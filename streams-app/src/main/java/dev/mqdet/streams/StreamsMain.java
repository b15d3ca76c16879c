package dev.mqdet.streams;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./mqdet streams --config app.properties}: runs the streams app until SIGTERM. */
@Command(name = "streams", mixinStandardHelpOptions = true, description = "Run the MQ-Det streams app.")
public final class StreamsMain implements Callable<Integer> {

    @Option(names = "--config", description = "Properties file; environment variables (MQDET_*, KAFKA_*, SCHEMA_REGISTRY_URL) override it.")
    Path config;

    @Option(names = "--set", description = "key=value, overriding file and environment.")
    Map<String, String> overrides = Map.of();

    public static void main(String[] args) {
        System.exit(new CommandLine(new StreamsMain()).execute(args));
    }

    @Override
    public Integer call() throws InterruptedException {
        StreamsAppConfig settings = StreamsAppConfig.load(config, System.getenv(), overrides);
        PipelineApp app = PipelineApp.start(settings);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            app.close();
            stopped.countDown();
        }, "streams-app-shutdown"));
        stopped.await();
        return 0;
    }
}
