package dev.mqdet.topics;

/**
 * The rule for an image event's {@code eventId}: consumers de-duplicate by it and it is copied into logs and
 * detection events, so it must be non-empty, at most {@value #MAX_CHARS} characters, and free of control, format
 * (bidi overrides, zero-width) and separator characters. Any other text is allowed (UUIDs, camera/frame ids).
 */
public final class EventIds {
    private EventIds() {}

    public static final int MAX_CHARS = 256;

    /** Why {@code eventId} breaks the rule, or null when it is a valid event id. */
    public static String problem(String eventId) {
        if (eventId == null || eventId.isEmpty()) {
            return "eventId is empty";
        }
        if (eventId.isBlank()) {
            return "eventId is only whitespace";
        }
        if (eventId.codePointCount(0, eventId.length()) > MAX_CHARS) {
            return "eventId is longer than " + MAX_CHARS + " characters";
        }
        for (int i = 0; i < eventId.length(); i = eventId.offsetByCodePoints(i, 1)) {
            int c = eventId.codePointAt(i);
            if (LogSafe.isUnsafe(c)) {
                return String.format("eventId contains the control or format character U+%04X at index %d", c, i);
            }
        }
        return null;
    }
}
