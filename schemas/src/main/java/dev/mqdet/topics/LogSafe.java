package dev.mqdet.topics;

/**
 * User-supplied text made safe to print: in a log line, an error message or a dead letter's reason, a producer's
 * value must not start a new line, hide text behind a bidi override, or fill the line.
 */
public final class LogSafe {
    private LogSafe() {}

    /**
     * {@code value} with every control, format (bidi overrides, zero-width) and line or paragraph separator
     * character written as {@code \\uXXXX}, cut to {@code maxChars} characters with "..." after; "null" for null.
     */
    public static String quote(String value, int maxChars) {
        if (value == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(Math.min(value.length(), maxChars) + 8);
        int shown = 0;
        for (int i = 0; i < value.length(); i = value.offsetByCodePoints(i, 1)) {
            if (shown++ == maxChars) {
                return out.append("...").toString();
            }
            int c = value.codePointAt(i);
            if (isUnsafe(c)) {
                out.append(String.format("\\u%04x", c));
            } else {
                out.appendCodePoint(c);
            }
        }
        return out.toString();
    }

    /** True for control, format (bidi, zero-width), separator and unassigned or surrogate code points. */
    public static boolean isUnsafe(int codePoint) {
        return switch (Character.getType(codePoint)) {
            case Character.CONTROL, Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                 Character.SURROGATE, Character.UNASSIGNED, Character.PRIVATE_USE -> true;
            default -> false;
        };
    }
}
