package dev.mqdet.registry.validation;

import dev.mqdet.topics.Keys;
import dev.mqdet.topics.LogSafe;

/** Checks ids from paths and bodies against the project's one id rule ({@link Keys#isValidId}). */
public final class Ids {
    private Ids() {}

    /** Returns {@code value} when it is a valid id, else refuses naming {@code field}. */
    public static String require(String field, String value) {
        if (!Keys.isValidId(value)) {
            throw RefusedException.invalid(field, "'" + LogSafe.quote(value, 40) + "' is not a valid id: " + Keys.ID_RULE);
        }
        return value;
    }
}
