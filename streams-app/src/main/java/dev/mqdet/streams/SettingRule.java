package dev.mqdet.streams;

import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * How one {@code mqdet.*} value is read and which values it may take. {@link #check} refuses anything else with an
 * {@link InvalidConfigurationException} that names the key, the value and the allowed range, so a bad setting stops
 * the app at start instead of looping (a batch size of 0) or failing later on the first record.
 */
public interface SettingRule {

    /** What the value may be, for messages, e.g. "a whole number from 1 to 1024". */
    String allowed();

    /** Throws when {@code value} is not allowed for {@code key}. */
    void check(String key, String value);

    static SettingRule intRange(int min, int max) {
        return longRange(min, max);
    }

    static SettingRule longRange(long min, long max) {
        String allowed = "a whole number from " + min + " to " + max;
        return of(allowed, value -> {
            long v = Long.parseLong(value.trim());
            if (v < min || v > max) {
                throw new IllegalArgumentException();
            }
        });
    }

    /** A decimal number in [{@code min}, {@code max}], or ({@code min}, {@code max}] when {@code minExclusive}. */
    static SettingRule floatRange(double min, boolean minExclusive, double max) {
        String allowed = "a number " + (minExclusive ? "above " + min + " and at most " : "from " + min + " to ") + max;
        return of(allowed, value -> {
            double v = Double.parseDouble(value.trim());
            if (Double.isNaN(v) || v > max || v < min || (minExclusive && v == min)) {
                throw new IllegalArgumentException();
            }
        });
    }

    static SettingRule bool() {
        return of("true or false", value -> {
            String v = value.trim().toLowerCase(Locale.ROOT);
            if (!v.equals("true") && !v.equals("false")) {
                throw new IllegalArgumentException();
            }
        });
    }

    /** One of {@code values}, or (when {@code pattern} is not null) a value matching it. */
    static SettingRule oneOf(List<String> values, String patternDescription, Pattern pattern) {
        String allowed = "one of " + values + (pattern == null ? "" : " or " + patternDescription);
        return of(allowed, value -> {
            String v = value.trim();
            if (!values.contains(v) && (pattern == null || !pattern.matcher(v).matches())) {
                throw new IllegalArgumentException();
            }
        });
    }

    /** A Kafka topic name: 1 to 249 of letters, digits, '.', '_' and '-', and not "." or "..". */
    static SettingRule topicName() {
        Pattern legal = Pattern.compile("[a-zA-Z0-9._-]{1,249}");
        return of("a topic name (1 to 249 of letters, digits, '.', '_', '-')", value -> {
            if (!legal.matcher(value).matches() || value.equals(".") || value.equals("..")) {
                throw new IllegalArgumentException();
            }
        });
    }

    /** Any value, the empty one included (free text such as a folder; its use checks it). */
    static SettingRule any(String allowed) {
        return of(allowed, value -> { });
    }

    /** A rule from a check that throws any {@link RuntimeException} on a bad value; its message, if any, is kept. */
    static SettingRule of(String allowed, Consumer<String> validator) {
        return new SettingRule() {
            @Override
            public String allowed() {
                return allowed;
            }

            @Override
            public void check(String key, String value) {
                try {
                    validator.accept(value);
                } catch (RuntimeException e) {
                    String detail = e.getMessage() == null || e instanceof NumberFormatException ? "" : " (" + e.getMessage() + ")";
                    throw new InvalidConfigurationException(key, "configuration key " + key + " must be " + allowed + ", not '"
                            + value + "'" + detail);
                }
            }
        };
    }
}
