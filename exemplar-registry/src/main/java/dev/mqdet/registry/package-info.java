/**
 * exemplar-registry: the service operators use to manage query sets (REST API, CLI, web page); writes the compacted
 * exemplar-queries topic, which is its only store.
 *
 * <p>Packages by feature: {@code config} (settings from file and environment), {@code view} (the in-memory view rebuilt
 * from the topic), {@code store} (writes through a transactional producer), {@code validation} (images, boxes, limits),
 * {@code api} (HTTP routes, auth, problem details), {@code live} (recent detections for the web page), {@code cli}.
 */
package dev.mqdet.registry;
