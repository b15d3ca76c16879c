package dev.mqdet.schemaregistry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mqdet.serde.IncompatibleSchemaException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import org.apache.avro.Schema;
import org.apache.avro.AvroRuntimeException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * A client for the Confluent Schema Registry REST API over {@link java.net.http.HttpClient}: basic auth, TLS
 * (trust store and client certificate), bounded retries with back-off and fail-over between URLs, and caches
 * for what never changes (a schema id's schema; a schema's id under a subject).
 *
 * <p>Confluent's own client jars are not obtainable from the registries this project builds from; this one is
 * checked against Confluent's client and Apicurio's serdes in the test suite.
 */
public final class RestSchemaRegistryClient implements SchemaRegistryClient {

    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_REFERENCES = 1_000;

    private final List<String> baseUrls;
    private final HttpClient http;
    private final Optional<String> authorization;
    private final Duration requestTimeout;
    private final int retries;
    private final long retryBackoffMs;
    private volatile int activeUrl;

    private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
    private final Map<SubjectSchema, Integer> idsBySubjectSchema = new ConcurrentHashMap<>();

    private record SubjectSchema(String subject, Schema schema) {}

    public RestSchemaRegistryClient(Map<?, ?> configs) {
        this(new SchemaRegistryClientConfig(configs));
    }

    public RestSchemaRegistryClient(SchemaRegistryClientConfig config) {
        this.baseUrls = config.getList(SchemaRegistryClientConfig.URL).stream()
                .map(url -> url.endsWith("/") ? url.substring(0, url.length() - 1) : url)
                .map(RestSchemaRegistryClient::withoutUserInfo)
                .toList();
        if (baseUrls.isEmpty()) {
            throw new ConfigException(SchemaRegistryClientConfig.URL, "", "at least one registry URL is required");
        }
        this.requestTimeout = Duration.ofMillis(config.getInt(SchemaRegistryClientConfig.REQUEST_TIMEOUT_MS));
        this.retries = config.getInt(SchemaRegistryClientConfig.RETRIES);
        this.retryBackoffMs = config.getLong(SchemaRegistryClientConfig.RETRY_BACKOFF_MS);
        this.authorization = basicAuth(config);
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(requestTimeout);
        sslContext(config).ifPresent(builder::sslContext);
        this.http = builder.build();
    }

    @Override
    public int register(String subject, Schema schema) {
        return idsBySubjectSchema.computeIfAbsent(new SubjectSchema(subject, schema), key -> {
            JsonNode body = send("POST", "/subjects/" + encode(subject) + "/versions", schemaBody(schema), subject);
            int id = body.path("id").asInt(-1);
            schemasById.putIfAbsent(id, schema);
            return id;
        });
    }

    @Override
    public int lookup(String subject, Schema schema) {
        return idsBySubjectSchema.computeIfAbsent(new SubjectSchema(subject, schema), key -> {
            try {
                JsonNode body = send("POST", "/subjects/" + encode(subject), schemaBody(schema), subject);
                int id = body.path("id").asInt(-1);
                schemasById.putIfAbsent(id, schema);
                return id;
            } catch (SchemaRegistryException e) {
                if (e.status() == 404) {
                    throw new SchemaNotRegisteredException(subject, schema.getFullName(), url(), e.errorCode());
                }
                throw e;
            }
        });
    }

    @Override
    public Schema schemaById(int id) {
        return schemasById.computeIfAbsent(id, key -> {
            try {
                return parse(send("GET", "/schemas/ids/" + id, null, null), "schema id " + id);
            } catch (SchemaRegistryException e) {
                if (e.status() == 404) {
                    throw new UnknownSchemaIdException(id, url());
                }
                throw e;
            }
        });
    }

    @Override
    public RegisteredSchema latest(String subject) {
        JsonNode body = send("GET", "/subjects/" + encode(subject) + "/versions/latest", null, subject);
        Schema schema = parse(body, "subject " + subject);
        int id = body.path("id").asInt(-1);
        schemasById.putIfAbsent(id, schema);
        return new RegisteredSchema(subject, id, body.path("version").asInt(-1), schema);
    }

    @Override
    public boolean isCompatible(String subject, Schema schema) {
        JsonNode body = send("POST", "/compatibility/subjects/" + encode(subject) + "/versions/latest", schemaBody(schema), subject);
        return body.path("is_compatible").asBoolean(false);
    }

    @Override
    public String url() {
        return String.join(",", baseUrls);
    }

    /** One request, retried on connection failures, timeouts and 5xx, moving to the next URL each time. */
    private JsonNode send(String method, String path, String body, String subject) {
        Exception last = null;
        for (int attempt = 0; attempt <= retries; attempt++) {
            if (attempt > 0) {
                sleep(retryBackoffMs << Math.min(attempt - 1, 10));
            }
            int urlIndex = activeUrl;
            String base = baseUrls.get(urlIndex % baseUrls.size());
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
                    .timeout(requestTimeout)
                    .header("Accept", CONTENT_TYPE + ", application/json")
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
            if (body != null) {
                request.header("Content-Type", CONTENT_TYPE);
            }
            authorization.ifPresent(value -> request.header("Authorization", value));
            try {
                HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
                int status = response.statusCode();
                if (status >= 200 && status < 300) {
                    return JSON.readTree(response.body());
                }
                if (status >= 500 || status == 429) {
                    last = new IOException("HTTP " + status + " from " + base + path + ": " + response.body());
                } else {
                    throw error(status, response.body(), method + " " + base + path, subject);
                }
            } catch (SSLException e) {
                // A certificate problem does not heal with retries: say so at once.
                throw new SchemaRegistryException("TLS with the schema registry at " + base + " failed: " + e.getMessage()
                        + "; check schema.registry.ssl.truststore.* (and keystore.* for mutual TLS)", e);
            } catch (IOException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SchemaRegistryUnavailableException("interrupted while calling the schema registry at " + base, e);
            }
            activeUrl = urlIndex + 1;
        }
        throw new SchemaRegistryUnavailableException("schema registry at " + url() + " unreachable after "
                + (retries + 1) + " attempts (" + method + " " + path
                + (subject == null ? "" : ", subject '" + subject + "'") + "): " + last, last);
    }

    private static SchemaRegistryException error(int status, String body, String request, String subject) {
        int errorCode = -1;
        String message = body;
        try {
            JsonNode json = JSON.readTree(body);
            errorCode = json.path("error_code").asInt(-1);
            message = json.path("message").asText(body);
        } catch (IOException notJson) {
            // keep the raw body
        }
        String where = request + (subject == null ? "" : " (subject '" + subject + "')");
        if (status == 409) {
            throw new IncompatibleSchemaException("the registry refused the schema as incompatible with the subject's "
                    + "existing versions: " + where + ": " + message);
        }
        if (status == 401 || status == 403) {
            return new SchemaRegistryException("not authorised (HTTP " + status + "): " + where + ": " + message
                    + "; check basic.auth.credentials.source and basic.auth.user.info", status, errorCode);
        }
        return new SchemaRegistryException("HTTP " + status + " error " + errorCode + ": " + where + ": " + message,
                status, errorCode);
    }

    private static String schemaBody(Schema schema) {
        ObjectNode node = JSON.createObjectNode();
        node.put("schema", schema.toString());
        return node.toString();
    }

    /**
     * Parses a schema answer, first fetching and parsing the schemas it references (Confluent's schema references,
     * used e.g. by Apicurio's serializers for nested named types), dependencies before dependants.
     */
    private Schema parse(JsonNode answer, String what) {
        Schema.Parser parser = new Schema.Parser();
        try {
            parseReferences(parser, answer.path("references"), new HashSet<>(), what);
            return parser.parse(answer.path("schema").asText());
        } catch (AvroRuntimeException e) {
            throw new SchemaRegistryException("the registry returned a schema that is not valid Avro for " + what
                    + ": " + e.getMessage(), e);
        }
    }

    private void parseReferences(Schema.Parser parser, JsonNode references, Set<String> parsed, String what) {
        for (JsonNode reference : references) {
            String subject = reference.path("subject").asText();
            String version = reference.path("version").asText();
            if (parsed.size() > MAX_REFERENCES) {
                throw new SchemaRegistryException("more than " + MAX_REFERENCES + " schema references for " + what, -1, -1);
            }
            if (!parsed.add(subject + "/" + version)) {
                continue;
            }
            JsonNode referenced = send("GET", "/subjects/" + encode(subject) + "/versions/" + encode(version), null, subject);
            parseReferences(parser, referenced.path("references"), parsed, what);
            parser.parse(referenced.path("schema").asText());
        }
    }

    private static String encode(String subject) {
        return URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static Optional<String> basicAuth(SchemaRegistryClientConfig config) {
        String userInfo = switch (config.getString(SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE)) {
            case "USER_INFO" -> {
                Password password = config.getPassword(SchemaRegistryClientConfig.BASIC_AUTH_USER_INFO);
                if (password == null) {
                    throw new ConfigException(SchemaRegistryClientConfig.BASIC_AUTH_USER_INFO, null,
                            "required when basic.auth.credentials.source=USER_INFO");
                }
                yield password.value();
            }
            case "URL" -> config.getList(SchemaRegistryClientConfig.URL).stream()
                    .map(url -> URI.create(url).getRawUserInfo())
                    .filter(info -> info != null)
                    .findFirst()
                    .map(info -> java.net.URLDecoder.decode(info, StandardCharsets.UTF_8))
                    .orElseThrow(() -> new ConfigException(SchemaRegistryClientConfig.URL, "(hidden)",
                            "basic.auth.credentials.source=URL needs user:password@ in the URL"));
            default -> null;
        };
        return Optional.ofNullable(userInfo)
                .map(info -> "Basic " + Base64.getEncoder().encodeToString(info.getBytes(StandardCharsets.UTF_8)));
    }

    private static String withoutUserInfo(String url) {
        URI uri = URI.create(url);
        if (uri.getRawUserInfo() == null) {
            return url;
        }
        return url.replace(uri.getRawUserInfo() + "@", "");
    }

    private static Optional<SSLContext> sslContext(SchemaRegistryClientConfig config) {
        String trustStore = config.getString(SchemaRegistryClientConfig.SSL_TRUSTSTORE_LOCATION);
        String keyStore = config.getString(SchemaRegistryClientConfig.SSL_KEYSTORE_LOCATION);
        if (trustStore == null && keyStore == null) {
            return Optional.empty();
        }
        try {
            TrustManagerFactory trust = null;
            if (trustStore != null) {
                trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                trust.init(load(trustStore, config.getString(SchemaRegistryClientConfig.SSL_TRUSTSTORE_TYPE),
                        config.getPassword(SchemaRegistryClientConfig.SSL_TRUSTSTORE_PASSWORD)));
            }
            KeyManagerFactory keys = null;
            if (keyStore != null) {
                Password storePassword = config.getPassword(SchemaRegistryClientConfig.SSL_KEYSTORE_PASSWORD);
                Password keyPassword = Optional.ofNullable(config.getPassword(SchemaRegistryClientConfig.SSL_KEY_PASSWORD))
                        .orElse(storePassword);
                keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                keys.init(load(keyStore, config.getString(SchemaRegistryClientConfig.SSL_KEYSTORE_TYPE), storePassword),
                        keyPassword == null ? null : keyPassword.value().toCharArray());
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys == null ? null : keys.getKeyManagers(), trust == null ? null : trust.getTrustManagers(), null);
            return Optional.of(context);
        } catch (GeneralSecurityException | IOException e) {
            throw new ConfigException("schema registry TLS settings are unusable: " + e.getMessage());
        }
    }

    private static KeyStore load(String location, String type, Password password) throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance(type);
        try (InputStream in = Files.newInputStream(Path.of(location))) {
            store.load(in, password == null ? null : password.value().toCharArray());
        }
        return store;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
