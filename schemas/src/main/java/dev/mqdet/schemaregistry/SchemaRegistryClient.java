package dev.mqdet.schemaregistry;

import org.apache.avro.Schema;

/**
 * The parts of the Confluent Schema Registry REST API this project uses. Any server speaking that API works
 * (Confluent Schema Registry, Apicurio's {@code /apis/ccompat/v7}, Karapace, Redpanda).
 *
 * <p>Implementations cache what cannot change (a schema for an id, the id of a schema under a subject), so
 * the serdes call these methods per record.
 */
public interface SchemaRegistryClient {

    /** Registers {@code schema} under {@code subject} (or finds it registered) and returns its global id. */
    int register(String subject, Schema schema);

    /**
     * Returns the id of {@code schema} under {@code subject} without registering it.
     *
     * @throws SchemaNotRegisteredException if the subject does not hold the schema
     */
    int lookup(String subject, Schema schema);

    /**
     * Returns the schema with this global id.
     *
     * @throws UnknownSchemaIdException if no schema has the id
     */
    Schema schemaById(int id);

    /** The newest version registered under {@code subject}. */
    RegisteredSchema latest(String subject);

    /** Whether {@code schema} could be registered under {@code subject} under the subject's compatibility rule. */
    boolean isCompatible(String subject, Schema schema);

    /** The registry's base URL(s), for messages. */
    String url();

    /** A schema as the registry holds it. */
    record RegisteredSchema(String subject, int id, int version, Schema schema) {}
}
