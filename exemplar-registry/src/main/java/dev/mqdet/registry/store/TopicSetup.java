package dev.mqdet.registry.store;

import dev.mqdet.topics.Topics;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure the exemplar-queries topic exists with the settings the registry relies on. A category record carries
 * its exemplar images inline, so it can be larger than Kafka's 1 MB default: a topic created here gets
 * {@code max.message.bytes} equal to {@code registry.max.record.bytes}. For a topic that already exists the
 * smaller of the two limits applies, and the registry refuses larger categories with a 413 instead of failing.
 */
public final class TopicSetup {

    private static final Logger log = LoggerFactory.getLogger(TopicSetup.class);

    private TopicSetup() {}

    /** Returns the record size limit in force: the configured one, or the topic's when that is lower. */
    public static int ensure(Map<String, Object> kafkaConfig, String topic, boolean create, int partitions, int maxRecordBytes) {
        try (Admin admin = Admin.create(kafkaConfig)) {
            boolean exists = admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(topic);
            if (!exists) {
                if (!create) {
                    throw new IllegalStateException("topic " + topic + " does not exist and registry.topic.create is false");
                }
                Map<String, String> configs = new HashMap<>(Topics.EXEMPLAR_QUERIES.topicConfig());
                configs.put("max.message.bytes", String.valueOf(maxRecordBytes));
                try {
                    admin.createTopics(List.of(new NewTopic(topic, Optional.of(partitions), Optional.empty()).configs(configs))).all().get(30, TimeUnit.SECONDS);
                    log.info("created topic {} ({} partitions, {})", topic, partitions, configs);
                    return maxRecordBytes;
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config config = admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
            ConfigEntry cleanup = config.get("cleanup.policy");
            if (cleanup != null && !cleanup.value().contains("compact")) {
                log.warn("topic {} has cleanup.policy={}, not compact: deleted categories and old revisions will pile up or expire", topic, cleanup.value());
            }
            ConfigEntry max = config.get("max.message.bytes");
            int topicMax = max == null ? maxRecordBytes : Integer.parseInt(max.value());
            if (topicMax < maxRecordBytes) {
                log.warn("topic {} accepts records up to {} bytes (max.message.bytes), less than registry.max.record.bytes={}; "
                        + "larger categories will be refused", topic, topicMax, maxRecordBytes);
                return topicMax;
            }
            return maxRecordBytes;
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not check topic " + topic + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka at " + kafkaConfig.get("bootstrap.servers") + " did not answer within 30 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking topic " + topic, e);
        }
    }
}
