package dev.mqdet.streams;

/** A configuration value or key the app refuses at start; the message names the key and what it may be. */
public final class InvalidConfigurationException extends IllegalArgumentException {

    private final String key;

    public InvalidConfigurationException(String key, String message) {
        super(message);
        this.key = key;
    }

    /** The offending key. */
    public String key() {
        return key;
    }
}
