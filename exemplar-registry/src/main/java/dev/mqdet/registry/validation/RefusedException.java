package dev.mqdet.registry.validation;

import java.util.List;

/**
 * A request the registry refuses, before writing anything. The HTTP layer turns it into an RFC 7807 problem
 * ({@code application/problem+json}) with its status, title, detail and field errors.
 */
public final class RefusedException extends RuntimeException {

    private final int status;
    private final String title;
    private final List<FieldError> errors;

    public RefusedException(int status, String title, String detail, List<FieldError> errors) {
        super(detail);
        this.status = status;
        this.title = title;
        this.errors = List.copyOf(errors);
    }

    /** 422: the request is well-formed but its content breaks a rule. */
    public static RefusedException invalid(List<FieldError> errors) {
        String detail = errors.size() == 1
                ? errors.get(0).field() + ": " + errors.get(0).message()
                : errors.size() + " fields are invalid";
        return new RefusedException(422, "Invalid request", detail, errors);
    }

    public static RefusedException invalid(String field, String message) {
        return invalid(List.of(new FieldError(field, message)));
    }

    /** 400: the body cannot be read at all (not JSON, wrong structure). */
    public static RefusedException malformed(String detail) {
        return new RefusedException(400, "Malformed request", detail, List.of());
    }

    public static RefusedException notFound(String detail) {
        return new RefusedException(404, "Not found", detail, List.of());
    }

    public static RefusedException conflict(String detail) {
        return new RefusedException(409, "Conflict", detail, List.of());
    }

    /** 410: what the request names existed, but is not held any more (an old live event's image). */
    public static RefusedException gone(String detail) {
        return new RefusedException(410, "Gone", detail, List.of());
    }

    public static RefusedException preconditionFailed(String detail) {
        return new RefusedException(412, "Precondition failed", detail, List.of());
    }

    public static RefusedException tooLarge(String field, String message) {
        return new RefusedException(413, "Too large", message, List.of(new FieldError(field, message)));
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    public List<FieldError> errors() {
        return errors;
    }
}
