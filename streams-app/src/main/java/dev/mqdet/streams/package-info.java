/**
 * streams-app: the Kafka Streams topology: image events joined with exemplar embeddings, batched MQ-Det inference, detection events and dead letters.
 *
 * <p>Not built yet: this module exists so the build layout is final; its code arrives with its own issue.
 */
package dev.mqdet.streams;
