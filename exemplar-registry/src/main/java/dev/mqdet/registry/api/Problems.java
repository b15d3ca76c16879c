package dev.mqdet.registry.api;

import dev.mqdet.registry.validation.FieldError;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Error answers as RFC 7807 problem details ({@code application/problem+json}): {@code type}, {@code title},
 * {@code status}, {@code detail}, {@code instance}, and for validation errors an {@code errors} array of
 * {@code {field, message}}.
 */
public final class Problems {
    private Problems() {}

    public static final String MEDIA_TYPE = "application/problem+json";

    public static void write(Context ctx, int status, String title, String detail, List<FieldError> errors) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", "about:blank");
        body.put("title", title);
        body.put("status", status);
        body.put("detail", detail);
        body.put("instance", ctx.path());
        if (!errors.isEmpty()) {
            body.put("errors", errors);
        }
        ctx.status(status);
        ctx.json(body);
        ctx.contentType(MEDIA_TYPE);
    }
}
