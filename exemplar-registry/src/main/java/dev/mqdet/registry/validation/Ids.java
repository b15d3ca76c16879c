package dev.mqdet.registry.validation;

import dev.mqdet.topics.Keys;

/** Checks ids from paths and bodies against the topic contract ({@link Keys}): 1 to 128 of A-Z a-z 0-9 . _ - */
public final class Ids {
    private Ids() {}

    /**
     * Returns {@code value} when it is a valid id, else refuses naming {@code field}. The rule also keeps ids free of
     * {@code /} (the key separator) and of anything a path could be built from ({@code ..} alone is refused too).
     */
    public static String require(String field, String value) {
        if (!Keys.isValidId(value) || ".".equals(value) || "..".equals(value)) {
            throw RefusedException.invalid(field, "'" + truncate(value) + "' is not a valid id: use 1 to 128 of A-Z a-z 0-9 . _ - (not . or ..)");
        }
        return value;
    }

    private static String truncate(String value) {
        if (value == null) {
            return "null";
        }
        return value.length() > 40 ? value.substring(0, 40) + "..." : value;
    }
}
