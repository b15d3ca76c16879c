package dev.mqdet.topics;

import java.util.regex.Pattern;

/**
 * Record keys of the compacted topics, and the one id rule every part of the project checks ids with (the
 * registry's API, the pipeline's join, the key helpers below). Ids are restricted to {@code [A-Za-z0-9._-]}, 1 to
 * 128 characters, and are never {@code .} or {@code ..}: so {@code /} can separate the parts, a key prefix
 * ({@code querySetId/}) selects one query set, and no id can name a path.
 */
public final class Keys {
    private Keys() {}

    public static final char SEPARATOR = '/';
    /** The id rule in words, for error messages. */
    public static final String ID_RULE = "use 1 to 128 of A-Z a-z 0-9 . _ - (not . or ..)";
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,128}");

    /** Throws {@link IllegalArgumentException} naming the id and the rule when {@code value} is not a valid id. */
    public static String requireId(String kind, String value) {
        if (!isValidId(value)) {
            throw new IllegalArgumentException(kind + " '" + LogSafe.quote(value, 40) + "' is not a valid id: " + ID_RULE);
        }
        return value;
    }

    public static boolean isValidId(String value) {
        return value != null && ID.matcher(value).matches() && !value.equals(".") && !value.equals("..");
    }

    /** {@code querySetId/categoryId}: the key of {@link Topics#EXEMPLAR_QUERIES}. */
    public static String query(String querySetId, String categoryId) {
        return requireId("querySetId", querySetId) + SEPARATOR + requireId("categoryId", categoryId);
    }

    /** {@code modelId/querySetId/categoryId}: the key of {@link Topics#EXEMPLAR_EMBEDDINGS}. */
    public static String embedding(String modelId, String querySetId, String categoryId) {
        return requireId("modelId", modelId) + SEPARATOR + query(querySetId, categoryId);
    }

    /** The prefix shared by the keys of every category of one query set under one model. */
    public static String embeddingPrefix(String modelId, String querySetId) {
        return requireId("modelId", modelId) + SEPARATOR + requireId("querySetId", querySetId) + SEPARATOR;
    }

    /** Splits a key into its ids, checking there are {@code parts} of them and each is valid. */
    public static String[] split(String key, int parts) {
        String[] ids = key == null ? new String[0] : key.split(Pattern.quote(String.valueOf(SEPARATOR)), -1);
        if (ids.length != parts) {
            throw new IllegalArgumentException("key '" + key + "' should have " + parts + " ids separated by '/'");
        }
        for (String id : ids) {
            requireId("key part", id);
        }
        return ids;
    }
}
