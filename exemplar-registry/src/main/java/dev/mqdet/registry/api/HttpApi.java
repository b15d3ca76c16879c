package dev.mqdet.registry.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mqdet.registry.config.Limits;
import dev.mqdet.registry.config.RegistryConfig;
import dev.mqdet.registry.health.Health;
import dev.mqdet.registry.live.LiveFeed;
import dev.mqdet.registry.store.QuerySetStore;
import dev.mqdet.registry.store.StoreUnavailableException;
import dev.mqdet.registry.validation.CategoryValidator;
import dev.mqdet.registry.validation.FieldError;
import dev.mqdet.registry.validation.RefusedException;
import io.javalin.Javalin;
import io.javalin.config.SizeUnit;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.staticfiles.Location;
import io.javalin.json.JavalinJackson;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of the service on Javalin: the query-set API, the live view's data, the OpenAPI description, the web
 * page, and the cross-cutting rules (bearer tokens, request size limits, problem details, security headers, CORS
 * only when configured).
 */
public final class HttpApi {

    private static final Logger log = LoggerFactory.getLogger(HttpApi.class);

    static final String WEB_ROOT = "/dev/mqdet/registry/web";
    static final String OPENAPI = "/dev/mqdet/registry/openapi.yaml";

    /** Same-origin only; images may come from blob: URLs made by the page itself. */
    static final String CSP = "default-src 'self'; img-src 'self' blob: data:; script-src 'self'; style-src 'self'; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    private final QuerySetStore store;
    private final CategoryValidator validator;
    private final LiveFeed feed;
    private final ObjectMapper json;
    private final RegistryConfig config;
    private final Health health;
    private final Limits limits;
    private final List<String> routes = Collections.synchronizedList(new ArrayList<>());

    public HttpApi(QuerySetStore store, CategoryValidator validator, LiveFeed feed, ObjectMapper json, RegistryConfig config,
                   Health health) {
        this.health = health;
        this.store = store;
        this.validator = validator;
        this.feed = feed;
        this.json = json;
        this.config = config;
        this.limits = validator.limits();
    }

    /** The configured, not yet started, Javalin app. */
    public Javalin create() {
        List<String> origins = config.getList("registry.cors.origins");
        Javalin app = Javalin.create(cfg -> {
            cfg.showJavalinBanner = false;
            cfg.startupWatcherEnabled = false;
            cfg.jsonMapper(new JavalinJackson(json, false));
            cfg.http.maxRequestSize = limits.maxRequestBytes();
            // Multipart uploads stay in memory (up to the request limit): the registry writes nothing to disk.
            cfg.jetty.multipartConfig.maxFileSize(limits.maxImageBytes(), SizeUnit.BYTES);
            cfg.jetty.multipartConfig.maxTotalRequestSize(limits.maxRequestBytes(), SizeUnit.BYTES);
            cfg.jetty.multipartConfig.maxInMemoryFileSize((int) Math.min(Integer.MAX_VALUE, limits.maxRequestBytes()), SizeUnit.BYTES);
            cfg.staticFiles.add(files -> {
                files.hostedPath = "/";
                files.directory = WEB_ROOT;
                files.location = Location.CLASSPATH;
                files.headers = securityHeaders();
            });
            if (!origins.isEmpty()) {
                cfg.bundledPlugins.enableCors(cors -> cors.addRule(rule -> {
                    if (origins.contains("*")) {
                        rule.anyHost();
                    } else {
                        rule.allowHost(origins.get(0), origins.subList(1, origins.size()).toArray(String[]::new));
                    }
                    rule.exposeHeader("Location");
                }));
            }
            cfg.events(events -> events.handlerAdded(h -> routes.add(h.getHttpMethod() + " " + h.getPath())));
        });

        BearerAuth auth = new BearerAuth(config.get("registry.token"), config.get("registry.read.token"), config.getBoolean("registry.auth.reads"));
        app.before(ctx -> securityHeaders().forEach(ctx::header));
        app.before("/api/*", auth::check);
        app.before("/api/live/images/*", auth::checkSensitiveRead);
        app.before("/api/*", this::checkDeclaredSize);

        // 503 when the view may be behind the topic, so an orchestrator stops routing to this instance.
        app.get("/health", ctx -> {
            Health.Report report = health.report();
            ctx.status(report.unhealthy() ? 503 : 200).json(Map.of("status", report.status(),
                    "querySets", store.view().querySets().size(), "components", report.components()));
        });
        app.get("/openapi.yaml", ctx -> ctx.contentType("application/yaml").result(resource(OPENAPI)));
        RequestReader reader = new RequestReader(json, limits.maxRequestBytes());
        new QuerySetRoutes(store, validator, reader, config.get("registry.token.name")).register(app);
        if (feed != null) {
            new LiveRoutes(feed).register(app);
            new FeedbackRoutes(feed, store, validator, reader, config.get("registry.token.name")).register(app);
        }
        app.get("/api/config", ctx -> ctx.json(Map.of(
                "maxExemplarsPerCategory", limits.maxExemplarsPerCategory(),
                "maxCategoriesPerQuerySet", limits.maxCategoriesPerQuerySet(),
                "maxLabelLength", limits.maxLabelLength(),
                "maxImageBytes", limits.maxImageBytes(),
                "maxImagePixels", limits.maxImagePixels(),
                "liveView", feed != null)));

        app.exception(RefusedException.class, (e, ctx) -> Problems.write(ctx, e.status(), e.title(), e.getMessage(), e.errors()));
        app.exception(StoreUnavailableException.class, (e, ctx) -> {
            log.warn("write failed: {}", e.getMessage());
            Problems.write(ctx, 503, "Service unavailable", "the change was not written: " + e.getMessage(), List.of());
        });
        app.exception(HttpResponseException.class, (e, ctx) ->
                Problems.write(ctx, e.getStatus(), title(e.getStatus()), e.getMessage(), List.<FieldError>of()));
        app.exception(Exception.class, (e, ctx) -> {
            log.error("unexpected error on {} {}", ctx.method(), ctx.path(), e);
            Problems.write(ctx, 500, "Internal error", "unexpected error; see the registry's log", List.of());
        });
        app.error(404, ctx -> {
            if (ctx.resultInputStream() == null) {
                Problems.write(ctx, 404, "Not found", "no such resource: " + ctx.path(), List.of());
            }
        });
        return app;
    }

    /** The routes registered so far, as "METHOD path": the OpenAPI test compares them with openapi.yaml. */
    public List<String> routes() {
        synchronized (routes) {
            return List.copyOf(routes);
        }
    }

    /** Refuses a body announced larger than the limit before a byte of it is read. */
    private void checkDeclaredSize(Context ctx) {
        long length = ctx.contentLength();
        if (length > limits.maxRequestBytes()) {
            throw RefusedException.tooLarge("body", "the request body is " + length + " bytes; at most " + limits.maxRequestBytes() + " are allowed");
        }
    }

    private static Map<String, String> securityHeaders() {
        return Map.of(
                "X-Content-Type-Options", "nosniff",
                "Referrer-Policy", "no-referrer",
                "X-Frame-Options", "DENY",
                "Content-Security-Policy", CSP);
    }

    private static byte[] resource(String path) {
        try (InputStream in = HttpApi.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + path);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String title(int status) {
        return switch (status) {
            case 400 -> "Malformed request";
            case 404 -> "Not found";
            case 405 -> "Method not allowed";
            case 413 -> "Too large";
            default -> "Error";
        };
    }
}
