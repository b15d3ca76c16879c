package dev.mqdet.registry.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mqdet.events.Exemplar;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.registry.api.RequestReader.CategoryBody;
import dev.mqdet.registry.store.QuerySetStore;
import dev.mqdet.registry.store.QuerySetStore.CategorySpec;
import dev.mqdet.registry.validation.CategoryValidator;
import dev.mqdet.registry.validation.CategoryValidator.ValidExemplar;
import dev.mqdet.registry.validation.FieldError;
import dev.mqdet.registry.validation.Ids;
import dev.mqdet.registry.validation.RefusedException;
import dev.mqdet.topics.Keys;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The query-set API under {@code /api/query-sets}. Every handler validates ids and bodies completely before it calls
 * the store, so a refused request writes nothing. The paths and bodies are described in {@code openapi.yaml}.
 */
public final class QuerySetRoutes {

    static final String QS = "/api/query-sets/{querySetId}";
    static final String CATEGORY = QS + "/categories/{categoryId}";
    static final String EXEMPLAR = CATEGORY + "/exemplars/{exemplarId}";
    static final String NEGATIVE = CATEGORY + "/negatives/{exemplarId}";

    private final QuerySetStore store;
    private final CategoryValidator validator;
    private final RequestReader reader;
    private final String principal;

    QuerySetRoutes(QuerySetStore store, CategoryValidator validator, RequestReader reader, String principal) {
        this.store = store;
        this.validator = validator;
        this.reader = reader;
        this.principal = principal;
    }

    void register(Javalin app) {
        app.get("/api/query-sets", this::list);
        app.post("/api/query-sets", this::create);
        app.get(QS, this::getQuerySet);
        app.delete(QS, this::deleteQuerySet);
        app.post(QS + "/rename", this::rename);
        app.get(CATEGORY, this::getCategory);
        app.put(CATEGORY, this::putCategory);
        app.patch(CATEGORY, this::patchCategory);
        app.delete(CATEGORY, this::deleteCategory);
        app.post(CATEGORY + "/exemplars", this::addExemplars);
        app.get(EXEMPLAR + "/image", this::exemplarImage);
        app.delete(EXEMPLAR, this::deleteExemplar);
        app.post(CATEGORY + "/negatives", this::addNegatives);
        app.get(NEGATIVE + "/image", this::negativeImage);
        app.delete(NEGATIVE, this::deleteNegative);
    }

    private void list(Context ctx) {
        ctx.json(Map.of("querySets", store.view().querySets()));
    }

    private void create(Context ctx) {
        JsonNode body = reader.object(ctx);
        List<FieldError> errors = new ArrayList<>();
        String id = RequestReader.text(body, "id", "id", errors);
        if (id == null && errors.isEmpty()) {
            errors.add(new FieldError("id", "is missing"));
        }
        JsonNode categories = body.get("categories");
        if (categories == null || !categories.isArray()) {
            errors.add(new FieldError("categories", "must be an array with at least one category"));
        }
        if (!errors.isEmpty()) {
            throw RefusedException.invalid(errors);
        }
        Ids.require("id", id);
        List<CategorySpec> specs = new ArrayList<>();
        for (int i = 0; i < categories.size(); i++) {
            String prefix = "categories[" + i + "].";
            JsonNode c = categories.get(i);
            if (!c.isObject()) {
                errors.add(new FieldError("categories[" + i + "]", "must be an object"));
                continue;
            }
            try {
                String categoryId = Ids.require(prefix + "categoryId", RequestReader.text(c, "categoryId", prefix + "categoryId", errors));
                CategoryBody parsed = reader.category(c, prefix);
                specs.add(spec(categoryId, parsed));
            } catch (RefusedException e) {
                e.errors().forEach(f -> errors.add(f.field().startsWith(prefix) ? f : new FieldError(prefix + f.field(), f.message())));
            }
        }
        if (!errors.isEmpty()) {
            throw RefusedException.invalid(errors);
        }
        List<ExemplarQuery> created = store.createQuerySet(id, specs, updatedBy(ctx));
        ctx.status(201).header("Location", "/api/query-sets/" + id).json(Json.querySet(id, created));
    }

    private void getQuerySet(Context ctx) {
        String qs = querySetId(ctx);
        Map<String, ExemplarQuery> set = store.view().querySet(qs);
        if (set.isEmpty()) {
            throw RefusedException.notFound("query set " + qs + " does not exist");
        }
        ctx.json(Json.querySet(qs, set.values()));
    }

    private void deleteQuerySet(Context ctx) {
        String qs = querySetId(ctx);
        int deleted = store.deleteQuerySet(qs);
        ctx.json(Map.of("querySetId", qs, "deletedCategories", deleted));
    }

    private void rename(Context ctx) {
        String qs = querySetId(ctx);
        JsonNode body = reader.object(ctx);
        List<FieldError> errors = new ArrayList<>();
        String newId = RequestReader.text(body, "newId", "newId", errors);
        if (!errors.isEmpty()) {
            throw RefusedException.invalid(errors);
        }
        Ids.require("newId", newId);
        List<ExemplarQuery> renamed = store.renameQuerySet(qs, newId, updatedBy(ctx));
        ctx.header("Location", "/api/query-sets/" + newId).json(Json.querySet(newId, renamed));
    }

    private void getCategory(Context ctx) {
        ctx.json(Json.category(existing(ctx)));
    }

    private void putCategory(Context ctx) {
        String qs = querySetId(ctx);
        String categoryId = categoryId(ctx);
        boolean createOnly = "*".equals(ctx.header("If-None-Match"));
        CategoryBody body = reader.category(ctx);
        boolean existed = store.view().category(qs, categoryId).isPresent();
        ExemplarQuery written = store.putCategory(qs, spec(categoryId, body), createOnly, updatedBy(ctx));
        ctx.status(existed ? 200 : 201).json(Json.category(written));
    }

    private void patchCategory(Context ctx) {
        String qs = querySetId(ctx);
        String categoryId = categoryId(ctx);
        JsonNode body = reader.object(ctx);
        if (!body.has("label") && !body.has("scoreThreshold")) {
            throw RefusedException.invalid("label", "is missing: give a label (a string, or null to make the category vision-only)"
                    + " and/or a scoreThreshold (0 to 1, or null for the pipeline's default)");
        }
        List<FieldError> errors = new ArrayList<>();
        String label = RequestReader.text(body, "label", "label", errors);
        Float threshold = RequestReader.scoreThreshold(body, "scoreThreshold", errors);
        if (!errors.isEmpty()) {
            throw RefusedException.invalid(errors);
        }
        ExemplarQuery written = null;
        if (body.has("label")) {
            written = store.setLabel(qs, categoryId, validator.label("label", label), updatedBy(ctx));
        }
        if (body.has("scoreThreshold")) {
            written = store.setScoreThreshold(qs, categoryId, threshold, updatedBy(ctx));
        }
        ctx.json(Json.category(written));
    }

    private void deleteCategory(Context ctx) {
        store.deleteCategory(querySetId(ctx), categoryId(ctx));
        ctx.status(204);
    }

    private void addExemplars(Context ctx) {
        String qs = querySetId(ctx);
        String categoryId = categoryId(ctx);
        List<ValidExemplar> valid = validator.exemplars(reader.exemplars(ctx));
        ExemplarQuery written = store.addExemplars(qs, categoryId, valid, updatedBy(ctx));
        ctx.status(201).json(Json.category(written));
    }

    /** Negative exemplars: the same bodies as exemplars (JSON or multipart), for regions that are NOT the category. */
    private void addNegatives(Context ctx) {
        List<ValidExemplar> valid = validator.exemplars(reader.exemplars(ctx));
        ExemplarQuery written = store.addNegatives(querySetId(ctx), categoryId(ctx), valid, updatedBy(ctx));
        ctx.status(201).json(Json.category(written));
    }

    private void deleteNegative(Context ctx) {
        String exemplarId = Ids.require("exemplarId", ctx.pathParam("exemplarId"));
        ctx.json(Json.category(store.removeNegative(querySetId(ctx), categoryId(ctx), exemplarId, updatedBy(ctx))));
    }

    private void exemplarImage(Context ctx) {
        ExemplarQuery q = existing(ctx);
        image(ctx, q, q.getExemplars(), "exemplar");
    }

    private void negativeImage(Context ctx) {
        ExemplarQuery q = existing(ctx);
        image(ctx, q, q.getNegatives(), "negative exemplar");
    }

    private static void image(Context ctx, ExemplarQuery q, List<Exemplar> exemplars, String what) {
        String exemplarId = Ids.require("exemplarId", ctx.pathParam("exemplarId"));
        Exemplar e = exemplars.stream().filter(x -> x.getExemplarId().equals(exemplarId)).findFirst()
                .orElseThrow(() -> RefusedException.notFound(what + " " + exemplarId + " is not in " + q.getQuerySetId() + "/" + q.getCategoryId()));
        ByteBuffer data = e.getImage().getData().duplicate();
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        String type = e.getImage().getMediaType();
        ctx.contentType("image/png".equals(type) || "image/jpeg".equals(type) ? type : "application/octet-stream");
        ctx.header("Cache-Control", "private, max-age=0");
        ctx.result(bytes);
    }

    private void deleteExemplar(Context ctx) {
        String exemplarId = Ids.require("exemplarId", ctx.pathParam("exemplarId"));
        ExemplarQuery written = store.removeExemplar(querySetId(ctx), categoryId(ctx), exemplarId, updatedBy(ctx));
        ctx.json(Json.category(written));
    }

    private ExemplarQuery existing(Context ctx) {
        String qs = querySetId(ctx);
        String categoryId = categoryId(ctx);
        return store.view().category(qs, categoryId)
                .orElseThrow(() -> RefusedException.notFound("category " + qs + "/" + categoryId + " does not exist"));
    }

    private CategorySpec spec(String categoryId, CategoryBody body) {
        List<ValidExemplar> valid = validator.category(body.label(), body.exemplars());
        return new CategorySpec(categoryId, validator.label("label", body.label()), valid, body.scoreThreshold());
    }

    private static String querySetId(Context ctx) {
        return Ids.require("querySetId", ctx.pathParam("querySetId"));
    }

    private static String categoryId(Context ctx) {
        return Ids.require("categoryId", ctx.pathParam("categoryId"));
    }

    /** Who to record in updatedBy: the token's configured name, plus the client's name (X-Client-Name) when it is a valid id. */
    private String updatedBy(Context ctx) {
        String client = ctx.header("X-Client-Name");
        return client != null && Keys.isValidId(client) && client.length() <= 64 ? principal + "/" + client : principal;
    }
}
