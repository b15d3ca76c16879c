package dev.mqdet.registry.config;

/** A registry setting refused at start: an unknown {@code registry.*} key or a value outside its range, named. */
public final class InvalidSettingException extends IllegalArgumentException {

    private final String key;

    public InvalidSettingException(String key, String message) {
        super(message);
        this.key = key;
    }

    public String key() {
        return key;
    }
}
