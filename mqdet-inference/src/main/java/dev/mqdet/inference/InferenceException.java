package dev.mqdet.inference;

/**
 * Root of the typed errors of inference: bad input (an image, a box, a query set) or an unusable model package.
 * Callers dead-letter bad input by catching this type; the message says what was wrong.
 */
public class InferenceException extends RuntimeException {
    public InferenceException(String message) {
        super(message);
    }

    public InferenceException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The bytes are not a decodable JPEG or PNG image: empty, truncated, corrupt, or another format. */
    public static class InvalidImageException extends InferenceException {
        public InvalidImageException(String message) {
            super(message);
        }

        public InvalidImageException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The image header declares more pixels than allowed: refused before any pixel is decoded (decompression bombs). */
    public static class ImageTooLargeException extends InvalidImageException {
        public ImageTooLargeException(String message) {
            super(message);
        }
    }

    /** An exemplar box is empty, not finite, or outside its image. */
    public static class InvalidBoxException extends InferenceException {
        public InvalidBoxException(String message) {
            super(message);
        }
    }

    /** A query set that cannot be run: no categories, or a category with neither text nor exemplars. */
    public static class InvalidQueryException extends InferenceException {
        public InvalidQueryException(String message) {
            super(message);
        }
    }

    /** A model package that cannot be loaded: a file, a field or a shape is missing or wrong. */
    public static class ModelPackageException extends InferenceException {
        public ModelPackageException(String message) {
            super(message);
        }

        public ModelPackageException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The configured device cannot be used here: a GPU asked of a CPU libtorch, or a CUDA libtorch without its driver. */
    public static class DeviceUnavailableException extends InferenceException {
        public DeviceUnavailableException(String message) {
            super(message);
        }
    }
}
