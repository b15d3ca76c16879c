package dev.mqdet.registry.validation;

/**
 * One thing wrong with one field of a request, e.g. {@code exemplars[1].box} / {@code x2 must be greater than x1}.
 *
 * @param field   where: a JSON path-like name ({@code label}, {@code exemplars[0].image}), or a path parameter
 * @param message what is wrong, in words a person can act on
 */
public record FieldError(String field, String message) {}
