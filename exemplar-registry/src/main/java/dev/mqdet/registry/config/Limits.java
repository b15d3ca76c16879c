package dev.mqdet.registry.config;

/**
 * What one request or one query set may hold. Every limit is checked before anything is written.
 *
 * @param maxExemplarsPerCategory  exemplars in one category
 * @param maxCategoriesPerQuerySet categories in one query set
 * @param maxLabelLength           characters (code points) of a label
 * @param maxImageBytes            encoded bytes of one exemplar image
 * @param maxImagePixels           width times height of one exemplar image, read from its header before decoding
 * @param maxRequestBytes          bytes of one HTTP request body
 * @param maxRecordBytes           bytes of one serialized category record (also the producer's max.request.size)
 */
public record Limits(
        int maxExemplarsPerCategory,
        int maxCategoriesPerQuerySet,
        int maxLabelLength,
        long maxImageBytes,
        long maxImagePixels,
        long maxRequestBytes,
        int maxRecordBytes) {}
