package dev.mqdet.registry.validation;

import dev.mqdet.registry.config.Limits;
import dev.mqdet.registry.validation.ImageValidator.ImageInfo;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks what a request says about a category (label, exemplars, boxes) against the rules and limits, collecting
 * every field error rather than stopping at the first, so a person fixes a form in one go. Needs no state: limits
 * that depend on what the query set already holds are checked by the store under its write lock.
 */
public final class CategoryValidator {

    /** An exemplar as a request gave it; box coordinates are boxed so a missing one can be named. */
    public record ExemplarInput(String exemplarId, byte[] data, String mediaType, Float x1, Float y1, Float x2, Float y2) {}

    /** An exemplar that passed every check; mediaType is the detected one. */
    public record ValidExemplar(String exemplarId, byte[] data, String mediaType, int width, int height,
                                float x1, float y1, float x2, float y2) {}

    private final Limits limits;
    private final ImageValidator images;

    public CategoryValidator(Limits limits) {
        this.limits = limits;
        this.images = new ImageValidator(limits);
    }

    public Limits limits() {
        return limits;
    }

    /**
     * The label, trimmed, or null when absent.
     *
     * @throws RefusedException when blank, too long or containing control characters
     */
    public String label(String field, String label) {
        List<FieldError> errors = new ArrayList<>();
        String out = label(field, label, errors);
        if (!errors.isEmpty()) {
            throw RefusedException.invalid(errors);
        }
        return out;
    }

    private String label(String field, String label, List<FieldError> errors) {
        if (label == null) {
            return null;
        }
        String trimmed = label.strip();
        if (trimmed.isEmpty()) {
            errors.add(new FieldError(field, "must not be blank; leave it out for a vision-only category"));
            return null;
        }
        int length = trimmed.codePointCount(0, trimmed.length());
        if (length > limits.maxLabelLength()) {
            errors.add(new FieldError(field, "is " + length + " characters; at most " + limits.maxLabelLength() + " are allowed"));
        }
        if (trimmed.codePoints().anyMatch(Character::isISOControl)) {
            errors.add(new FieldError(field, "must not contain control characters (line breaks, tabs, ...)"));
        }
        return trimmed;
    }

    /** Validates a whole category: at least one of label and exemplars, at most the exemplar limit, each exemplar valid. */
    public List<ValidExemplar> category(String label, List<ExemplarInput> exemplars) {
        List<FieldError> errors = new ArrayList<>();
        label("label", label, errors);
        if (label == null && exemplars.isEmpty()) {
            errors.add(new FieldError("label", "a category needs a label, exemplars, or both"));
        }
        if (exemplars.size() > limits.maxExemplarsPerCategory()) {
            errors.add(new FieldError("exemplars", "has " + exemplars.size() + " exemplars; at most "
                    + limits.maxExemplarsPerCategory() + " are allowed per category"));
        }
        List<ValidExemplar> valid = exemplars(exemplars, errors);
        if (!errors.isEmpty()) {
            throw RefusedException.invalid(errors);
        }
        return valid;
    }

    /** Validates exemplars on their own (adding to an existing category). */
    public List<ValidExemplar> exemplars(List<ExemplarInput> exemplars) {
        List<FieldError> errors = new ArrayList<>();
        if (exemplars.isEmpty()) {
            errors.add(new FieldError("exemplars", "at least one exemplar is needed"));
        }
        List<ValidExemplar> valid = exemplars(exemplars, errors);
        if (!errors.isEmpty()) {
            throw RefusedException.invalid(errors);
        }
        return valid;
    }

    private List<ValidExemplar> exemplars(List<ExemplarInput> exemplars, List<FieldError> errors) {
        List<ValidExemplar> valid = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < exemplars.size(); i++) {
            String prefix = "exemplars[" + i + "]";
            ExemplarInput in = exemplars.get(i);
            if (in.exemplarId() != null) {
                try {
                    Ids.require(prefix + ".exemplarId", in.exemplarId());
                    if (!ids.add(in.exemplarId())) {
                        errors.add(new FieldError(prefix + ".exemplarId", "'" + in.exemplarId() + "' is used twice"));
                    }
                } catch (RefusedException e) {
                    errors.addAll(e.errors());
                }
            }
            ImageInfo info;
            try {
                info = images.validate(prefix + ".image", in.data(), in.mediaType());
            } catch (RefusedException e) {
                errors.addAll(e.errors());
                continue;
            }
            int before = errors.size();
            box(prefix + ".box", in, info, errors);
            if (errors.size() == before) {
                valid.add(new ValidExemplar(in.exemplarId(), in.data(), info.mediaType(), info.width(), info.height(),
                        in.x1(), in.y1(), in.x2(), in.y2()));
            }
        }
        return valid;
    }

    private static void box(String field, ExemplarInput in, ImageInfo image, List<FieldError> errors) {
        Float[] c = {in.x1(), in.y1(), in.x2(), in.y2()};
        String[] names = {"x1", "y1", "x2", "y2"};
        for (int i = 0; i < 4; i++) {
            if (c[i] == null) {
                errors.add(new FieldError(field + "." + names[i], "is missing"));
                return;
            }
            if (!Float.isFinite(c[i])) {
                errors.add(new FieldError(field + "." + names[i], "must be a finite number"));
                return;
            }
        }
        if (in.x1() < 0 || in.y1() < 0 || in.x2() > image.width() || in.y2() > image.height()) {
            errors.add(new FieldError(field, "(" + in.x1() + ", " + in.y1() + ", " + in.x2() + ", " + in.y2()
                    + ") is not inside the " + image.width() + "x" + image.height() + " image"));
        }
        if (!(in.x2() > in.x1()) || !(in.y2() > in.y1())) {
            errors.add(new FieldError(field, "is empty: x2 must be greater than x1 and y2 greater than y1"));
        }
    }
}
