/**
 * exemplar-registry: the service operators use to manage query sets (REST API, CLI, web page); writes the compacted exemplar-queries topic.
 *
 * <p>Not built yet: this module exists so the build layout is final; its code arrives with its own issue.
 */
package dev.mqdet.registry;
