package dev.mqdet.streams;

import dev.mqdet.inference.ModelPackage;
import dev.mqdet.inference.MqDetModel;
import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.schemaregistry.SchemaRegistryClient;
import dev.mqdet.streams.detect.ImageSource;
import dev.mqdet.streams.ops.HealthServer;
import dev.mqdet.streams.ops.PipelineMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The running streams app: model, registry client, topology, Kafka Streams, and the health/metrics server. */
public final class PipelineApp implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PipelineApp.class);

    private final MqDetModel model;
    private final KafkaStreams streams;
    private final HealthServer http;
    private final Topology topology;
    private final PrometheusMeterRegistry meters;
    private final KafkaStreamsMetrics streamsMetrics;
    private final ImageSource images;

    private PipelineApp(StreamsAppConfig config, MqDetModel model) {
        this.model = model;
        this.meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(meters);
        SchemaRegistryClient registry = new RestSchemaRegistryClient(config.serdeConfig());
        this.images = DetectionTopology.imageSource(config); // one S3 client per instance, if s3:// is allowed
        this.topology = DetectionTopology.build(config, model, registry, new PipelineMetrics(meters), images);
        Properties properties = config.passThrough();
        this.streams = new KafkaStreams(topology, properties);
        streams.setUncaughtExceptionHandler(PipelineApp::onStreamThreadFailure);
        this.streamsMetrics = new KafkaStreamsMetrics(streams);
        streamsMetrics.bindTo(meters);
        int port = config.getInt(StreamsAppConfig.HTTP_PORT);
        this.http = port < 0 ? null : new HealthServer(port, streams::state, meters);
    }

    /**
     * A transient failure (schema registry down) kills a stream thread: replace it and retry from the last commit.
     * A JVM {@link Error} (out of memory, say) would come back on every retry: stop this instance instead, loudly.
     */
    static StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse onStreamThreadFailure(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof Error fatal) {
                log.error("stream thread failed with {}: stopping this instance (not retried, it would fail again)", fatal.toString(), error);
                return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
            }
        }
        log.error("stream thread failed, replacing it: {}", error.toString());
        return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
    }

    /** Loads the model, builds the topology and starts processing. */
    public static PipelineApp start(StreamsAppConfig config) {
        String dir = config.get(StreamsAppConfig.MODEL_DIR);
        ModelPackage pkg = dir.isBlank() ? ModelPackage.shipped() : ModelPackage.load(Path.of(dir));
        MqDetModel model = MqDetModel.load(pkg, MqDetModel.Options.builder()
                .optDevice(config.get(StreamsAppConfig.MODEL_DEVICE))
                .optPoolSize(config.getInt(StreamsAppConfig.MODEL_PREDICTORS))
                .optScoreThreshold(config.getFloat(StreamsAppConfig.SCORE_THRESHOLD))
                .optNmsIou(config.getFloat(StreamsAppConfig.NMS_IOU))
                .optCrossCategoryIou(config.getFloat(StreamsAppConfig.CROSS_CATEGORY_IOU))
                .optMaxDetectionsPerImage(config.getInt(StreamsAppConfig.MAX_DETECTIONS))
                .optMaxPixels(config.getLong(StreamsAppConfig.MAX_IMAGE_PIXELS))
                .optMaxImageBytes(config.getInt(StreamsAppConfig.MAX_IMAGE_BYTES))
                .build());
        PipelineApp app = new PipelineApp(config, model);
        app.streams.start();
        log.info("streams app {} started with model {} ({}); http {}", config.get(StreamsConfig.APPLICATION_ID_CONFIG),
                model.modelId(), config.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG), app.http == null ? "off" : app.http.port());
        return app;
    }

    public KafkaStreams streams() {
        return streams;
    }

    public MqDetModel model() {
        return model;
    }

    /** Detection events this instance has written. */
    public double eventsOut() {
        return meters.counter("mqdet.events.out").count();
    }

    public Topology topology() {
        return topology;
    }

    /** The health server's port, or -1 when it is off. */
    public int httpPort() {
        return http == null ? -1 : http.port();
    }

    /** Blocks until Kafka Streams is RUNNING, or throws after {@code timeout}. */
    public PipelineApp awaitRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (streams.state() != KafkaStreams.State.RUNNING) {
            if (System.nanoTime() > deadline || streams.state() == KafkaStreams.State.ERROR) {
                throw new IllegalStateException("streams app not running after " + timeout + ": " + streams.state());
            }
            Thread.sleep(50);
        }
        return this;
    }

    @Override
    public void close() {
        // 20 s: with the HTTP server and the model after it, a SIGTERM ends within 30 s (orchestrators' usual grace period)
        boolean closed = streams.close(Duration.ofSeconds(20));
        streamsMetrics.close();
        if (http != null) {
            http.close();
        }
        model.close();
        images.close();
        meters.close();
        log.info("streams app closed: Kafka Streams {}{}", streams.state(), closed ? "" : " (its threads did not stop within 20 s)");
    }
}
