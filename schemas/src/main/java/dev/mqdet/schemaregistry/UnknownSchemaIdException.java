package dev.mqdet.schemaregistry;

/** No schema has this id in the registry: the record was written against another registry, or is corrupt. */
public class UnknownSchemaIdException extends SchemaRegistryException {
    private final int schemaId;

    public UnknownSchemaIdException(int schemaId, String registryUrl) {
        super("schema id " + schemaId + " is not known to the registry at " + registryUrl, 404, 40403);
        this.schemaId = schemaId;
    }

    public int schemaId() {
        return schemaId;
    }
}
