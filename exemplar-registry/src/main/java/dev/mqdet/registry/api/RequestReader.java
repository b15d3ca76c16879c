package dev.mqdet.registry.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mqdet.registry.validation.CategoryValidator.ExemplarInput;
import dev.mqdet.registry.validation.FieldError;
import dev.mqdet.registry.validation.RefusedException;
import io.javalin.http.Context;
import io.javalin.http.UploadedFile;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Turns request bodies into validator inputs. Two forms are accepted for anything with images: JSON with base64
 * image data, and multipart/form-data with a file part {@code image} and a text part {@code box}
 * ({@code x1,y1,x2,y2}) per exemplar, in the same order. Shape errors are field errors, so they read like
 * validation errors; only a body that is not JSON at all is a 400.
 */
final class RequestReader {

    /** A category as given: its label (null when absent), its exemplars and its own score threshold (null when absent). */
    record CategoryBody(String label, List<ExemplarInput> exemplars, Float scoreThreshold) {}

    private final ObjectMapper json;
    private final long maxRequestBytes;

    RequestReader(ObjectMapper json, long maxRequestBytes) {
        this.json = json;
        this.maxRequestBytes = maxRequestBytes;
    }

    /** The body as a JSON object, read with a byte bound even when the client sent no Content-Length. */
    JsonNode object(Context ctx) {
        byte[] body;
        try (InputStream in = ctx.bodyInputStream()) {
            body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxRequestBytes + 1));
        } catch (IOException e) {
            throw RefusedException.malformed("the request body could not be read: " + e.getMessage());
        }
        if (body.length > maxRequestBytes) {
            throw RefusedException.tooLarge("body", "the request body is larger than " + maxRequestBytes + " bytes");
        }
        JsonNode node;
        try {
            node = json.readTree(body);
        } catch (JsonProcessingException e) {
            throw RefusedException.malformed("the body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw RefusedException.malformed("the body could not be read: " + e.getMessage());
        }
        if (node == null || !node.isObject()) {
            throw RefusedException.malformed("the body must be a JSON object");
        }
        return node;
    }

    /** A category from JSON ({@code {"label": ..., "exemplars": [...]}}) or multipart ({@code label}, {@code image}, {@code box}). */
    CategoryBody category(Context ctx) {
        if (ctx.isMultipartFormData()) {
            List<FieldError> errors = new ArrayList<>();
            String label = multipartLabel(ctx);
            List<ExemplarInput> exemplars = multipartExemplars(ctx, errors);
            Float threshold = multipartThreshold(ctx, errors);
            if (!errors.isEmpty()) {
                throw RefusedException.invalid(errors);
            }
            return new CategoryBody(label, exemplars, threshold);
        }
        return category(object(ctx), "");
    }

    /** A category from a JSON object; field names in errors are prefixed with {@code prefix}. */
    CategoryBody category(JsonNode node, String prefix) {
        List<FieldError> errors = new ArrayList<>();
        String label = text(node, "label", prefix + "label", errors);
        List<ExemplarInput> exemplars = exemplarArray(node.get("exemplars"), prefix + "exemplars", errors);
        Float threshold = scoreThreshold(node, prefix + "scoreThreshold", errors);
        if (!errors.isEmpty()) {
            throw RefusedException.invalid(errors);
        }
        return new CategoryBody(label, exemplars, threshold);
    }

    /** Exemplars to add: JSON {@code {"exemplars": [...]}} or multipart {@code image} + {@code box} parts. */
    List<ExemplarInput> exemplars(Context ctx) {
        List<FieldError> errors = new ArrayList<>();
        List<ExemplarInput> out;
        if (ctx.isMultipartFormData()) {
            out = multipartExemplars(ctx, errors);
        } else {
            JsonNode node = object(ctx);
            if (!node.has("exemplars")) {
                errors.add(new FieldError("exemplars", "is missing"));
            }
            out = exemplarArray(node.get("exemplars"), "exemplars", errors);
        }
        if (!errors.isEmpty()) {
            throw RefusedException.invalid(errors);
        }
        return out;
    }

    static String text(JsonNode node, String name, String field, List<FieldError> errors) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            errors.add(new FieldError(field, "must be a string"));
            return null;
        }
        return v.textValue();
    }

    /** A category's own score threshold: absent or null for the pipeline's default, else a number from 0 to 1. */
    static Float scoreThreshold(JsonNode node, String field, List<FieldError> errors) {
        JsonNode v = node.get("scoreThreshold");
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isNumber() || !(v.doubleValue() >= 0 && v.doubleValue() <= 1)) {
            errors.add(new FieldError(field, "must be a number from 0 to 1, or null for the pipeline's default"));
            return null;
        }
        return v.floatValue();
    }

    private static Float multipartThreshold(Context ctx, List<FieldError> errors) {
        String value;
        try {
            value = ctx.formParam("scoreThreshold");
        } catch (RuntimeException e) {
            throw multipartFailure(e);
        }
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            float threshold = Float.parseFloat(value.strip());
            if (threshold >= 0 && threshold <= 1) {
                return threshold;
            }
        } catch (NumberFormatException notANumber) {
            // reported below
        }
        errors.add(new FieldError("scoreThreshold", "must be a number from 0 to 1, or empty for the pipeline's default"));
        return null;
    }

    private static List<ExemplarInput> exemplarArray(JsonNode array, String field, List<FieldError> errors) {
        List<ExemplarInput> out = new ArrayList<>();
        if (array == null || array.isNull()) {
            return out;
        }
        if (!array.isArray()) {
            errors.add(new FieldError(field, "must be an array"));
            return out;
        }
        for (int i = 0; i < array.size(); i++) {
            String prefix = field + "[" + i + "]";
            JsonNode e = array.get(i);
            if (!e.isObject()) {
                errors.add(new FieldError(prefix, "must be an object with image and box"));
                continue;
            }
            int before = errors.size();
            String exemplarId = text(e, "exemplarId", prefix + ".exemplarId", errors);
            byte[] data = null;
            String mediaType = null;
            JsonNode image = e.get("image");
            if (image == null || !image.isObject()) {
                errors.add(new FieldError(prefix + ".image", "must be an object {data: base64, mediaType}"));
            } else {
                String b64 = text(image, "data", prefix + ".image.data", errors);
                mediaType = text(image, "mediaType", prefix + ".image.mediaType", errors);
                if (b64 == null) {
                    errors.add(new FieldError(prefix + ".image.data", "is missing"));
                } else {
                    try {
                        data = Base64.getMimeDecoder().decode(b64);
                    } catch (IllegalArgumentException ex) {
                        errors.add(new FieldError(prefix + ".image.data", "is not valid base64: " + ex.getMessage()));
                    }
                }
            }
            Float[] box = new Float[4];
            JsonNode b = e.get("box");
            if (b == null || !b.isObject()) {
                errors.add(new FieldError(prefix + ".box", "must be an object {x1, y1, x2, y2} in pixels"));
            } else {
                String[] names = {"x1", "y1", "x2", "y2"};
                for (int k = 0; k < 4; k++) {
                    JsonNode c = b.get(names[k]);
                    if (c == null || !c.isNumber()) {
                        errors.add(new FieldError(prefix + ".box." + names[k], "must be a number"));
                    } else {
                        box[k] = c.floatValue();
                    }
                }
            }
            if (errors.size() == before) {
                out.add(new ExemplarInput(exemplarId, data, mediaType, box[0], box[1], box[2], box[3]));
            }
        }
        return out;
    }

    private static String multipartLabel(Context ctx) {
        try {
            return ctx.formParam("label");
        } catch (RuntimeException e) {
            throw multipartFailure(e);
        }
    }

    private static List<ExemplarInput> multipartExemplars(Context ctx, List<FieldError> errors) {
        List<UploadedFile> files;
        List<String> boxes;
        List<String> ids;
        try {
            files = ctx.uploadedFiles("image");
            boxes = ctx.formParams("box");
            ids = ctx.formParams("exemplarId");
        } catch (RuntimeException e) {
            throw multipartFailure(e);
        }
        if (files.size() != boxes.size()) {
            errors.add(new FieldError("box", "there are " + files.size() + " image parts but " + boxes.size()
                    + " box parts; give one box (x1,y1,x2,y2) per image, in the same order"));
            return List.of();
        }
        if (!ids.isEmpty() && ids.size() != files.size()) {
            errors.add(new FieldError("exemplarId", "give one exemplarId per image, or none"));
            return List.of();
        }
        List<ExemplarInput> out = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            String prefix = "exemplars[" + i + "]";
            UploadedFile file = files.get(i);
            byte[] data;
            try (InputStream in = file.content()) {
                data = in.readAllBytes();
            } catch (IOException e) {
                throw RefusedException.malformed("image part " + i + " could not be read: " + e.getMessage());
            }
            Float[] box = parseBox(boxes.get(i), prefix + ".box", errors);
            if (box != null) {
                String type = file.contentType();
                // Browsers send application/octet-stream for unknown files; the bytes decide then.
                String mediaType = type == null || type.startsWith("application/octet-stream") ? null : type;
                out.add(new ExemplarInput(ids.isEmpty() ? null : ids.get(i), data, mediaType, box[0], box[1], box[2], box[3]));
            }
        }
        return out;
    }

    static Float[] parseBox(String text, String field, List<FieldError> errors) {
        String[] parts = text == null ? new String[0] : text.split(",");
        if (parts.length != 4) {
            errors.add(new FieldError(field, "must be four numbers x1,y1,x2,y2 in pixels, not '" + text + "'"));
            return null;
        }
        Float[] out = new Float[4];
        for (int i = 0; i < 4; i++) {
            try {
                out[i] = Float.parseFloat(parts[i].trim());
            } catch (NumberFormatException e) {
                errors.add(new FieldError(field, "'" + parts[i].trim() + "' is not a number"));
                return null;
            }
        }
        return out;
    }

    private static RefusedException multipartFailure(RuntimeException e) {
        String message = String.valueOf(e.getMessage());
        if (message.contains("exceeds") || message.contains("too large") || message.contains("Too large")) {
            return RefusedException.tooLarge("body", "the upload is too large: " + message);
        }
        return RefusedException.malformed("the multipart body could not be read: " + message);
    }
}
