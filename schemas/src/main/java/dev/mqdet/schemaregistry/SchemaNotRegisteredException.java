package dev.mqdet.schemaregistry;

/** Auto-registration is off and the subject does not hold this schema (or the subject does not exist). */
public class SchemaNotRegisteredException extends SchemaRegistryException {
    public SchemaNotRegisteredException(String subject, String schemaName, String registryUrl, int errorCode) {
        super("schema " + schemaName + " is not registered under subject '" + subject + "' at " + registryUrl
                + " and auto.register.schemas is false; register it first", 404, errorCode);
    }
}
