package dev.mqdet.schemaregistry;

import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * Settings of {@link RestSchemaRegistryClient}. The keys are Confluent's, so a configuration written for
 * Confluent's serializers works unchanged.
 */
public class SchemaRegistryClientConfig extends AbstractConfig {

    public static final String URL = "schema.registry.url";
    public static final String BASIC_AUTH_CREDENTIALS_SOURCE = "basic.auth.credentials.source";
    public static final String BASIC_AUTH_USER_INFO = "basic.auth.user.info";
    public static final String REQUEST_TIMEOUT_MS = "schema.registry.request.timeout.ms";
    public static final String RETRIES = "schema.registry.retries";
    public static final String RETRY_BACKOFF_MS = "schema.registry.retry.backoff.ms";
    public static final String SSL_TRUSTSTORE_LOCATION = "schema.registry.ssl.truststore.location";
    public static final String SSL_TRUSTSTORE_PASSWORD = "schema.registry.ssl.truststore.password";
    public static final String SSL_TRUSTSTORE_TYPE = "schema.registry.ssl.truststore.type";
    public static final String SSL_KEYSTORE_LOCATION = "schema.registry.ssl.keystore.location";
    public static final String SSL_KEYSTORE_PASSWORD = "schema.registry.ssl.keystore.password";
    public static final String SSL_KEYSTORE_TYPE = "schema.registry.ssl.keystore.type";
    public static final String SSL_KEY_PASSWORD = "schema.registry.ssl.key.password";

    protected static ConfigDef define(ConfigDef def) {
        return def
                .define(URL, Type.LIST, ConfigDef.NO_DEFAULT_VALUE, Importance.HIGH,
                        "Comma-separated base URLs of the Schema Registry (Confluent REST API); the next is tried when one is unreachable.")
                .define(BASIC_AUTH_CREDENTIALS_SOURCE, Type.STRING, "", ConfigDef.ValidString.in("", "USER_INFO", "URL"),
                        Importance.MEDIUM, "Where HTTP basic-auth credentials come from: USER_INFO (basic.auth.user.info), URL (user:password@ in the URL), or empty for none.")
                .define(BASIC_AUTH_USER_INFO, Type.PASSWORD, null, Importance.MEDIUM, "user:password for HTTP basic auth.")
                .define(REQUEST_TIMEOUT_MS, Type.INT, 10_000, ConfigDef.Range.atLeast(1), Importance.LOW, "Timeout of one HTTP request.")
                .define(RETRIES, Type.INT, 3, ConfigDef.Range.atLeast(0), Importance.LOW,
                        "Retries after a connection failure, timeout or 5xx answer, before SchemaRegistryUnavailableException.")
                .define(RETRY_BACKOFF_MS, Type.LONG, 200L, ConfigDef.Range.atLeast(0), Importance.LOW, "Initial back-off between retries; doubles each retry.")
                .define(SSL_TRUSTSTORE_LOCATION, Type.STRING, null, Importance.MEDIUM, "Trust store for the registry's TLS certificate; the JVM's default trust when unset.")
                .define(SSL_TRUSTSTORE_PASSWORD, Type.PASSWORD, null, Importance.MEDIUM, "Password of the trust store.")
                .define(SSL_TRUSTSTORE_TYPE, Type.STRING, "PKCS12", Importance.LOW, "Trust store type: PKCS12 or JKS.")
                .define(SSL_KEYSTORE_LOCATION, Type.STRING, null, Importance.MEDIUM, "Key store with the client certificate, for mutual TLS.")
                .define(SSL_KEYSTORE_PASSWORD, Type.PASSWORD, null, Importance.MEDIUM, "Password of the key store.")
                .define(SSL_KEYSTORE_TYPE, Type.STRING, "PKCS12", Importance.LOW, "Key store type: PKCS12 or JKS.")
                .define(SSL_KEY_PASSWORD, Type.PASSWORD, null, Importance.LOW, "Password of the private key; the key store password when unset.");
    }

    public static final ConfigDef CONFIG = define(new ConfigDef());

    public SchemaRegistryClientConfig(Map<?, ?> originals) {
        super(CONFIG, originals, false);
    }

    protected SchemaRegistryClientConfig(ConfigDef def, Map<?, ?> originals) {
        super(def, originals, false);
    }
}
