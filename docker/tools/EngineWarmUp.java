import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.LibUtils;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run while an image is built: loads DJL's PyTorch engine offline (ai.djl.offline=true), which extracts the native
 * libraries into DJL_CACHE_DIR so that a container starts with nothing to fetch, and fails the build when the
 * engine cannot load or is not the libtorch the image means to use.
 *
 * <p>{@code EngineWarmUp cpu}: libtorch from the pytorch-native-cpu jar. {@code EngineWarmUp gpu}: the CUDA libtorch
 * of the base image, named by PYTORCH_LIBRARY_PATH (no GPU is needed to load it).
 */
public final class EngineWarmUp {
    private static final String EXPECTED_VERSION = "2.7.1";

    public static void main(String[] args) throws Exception {
        String variant = args.length > 0 ? args[0] : "cpu";
        System.setProperty("ai.djl.offline", "true");
        Engine engine = Engine.getEngine("PyTorch");
        String libtorch = LibUtils.getLibtorchPath();
        System.out.println("EngineWarmUp: " + engine.getEngineName() + " " + engine.getVersion() + ", libtorch " + libtorch
                + ", GPUs visible now: " + engine.getGpuCount());
        if (!engine.getVersion().startsWith(EXPECTED_VERSION)) {
            fail("PyTorch " + engine.getVersion() + " loaded, " + EXPECTED_VERSION + " expected (DJL's JNI is built for it)");
        }
        if (variant.equals("gpu")) {
            String wanted = System.getenv("PYTORCH_LIBRARY_PATH");
            if (wanted == null || !Files.isSameFile(Path.of(wanted), Path.of(libtorch))) {
                fail("libtorch was loaded from " + libtorch + ", not from PYTORCH_LIBRARY_PATH=" + wanted);
            }
        }
        try (NDManager manager = engine.newBaseManager()) {
            NDArray sum = manager.ones(new ai.djl.ndarray.types.Shape(2, 3)).sum();
            if (sum.getFloat() != 6f) {
                fail("libtorch computed " + sum.getFloat() + " for the sum of six ones");
            }
        }
        System.out.println("EngineWarmUp: ok (" + variant + ")");
    }

    private static void fail(String message) {
        System.err.println("EngineWarmUp: " + message);
        System.exit(1);
    }
}
