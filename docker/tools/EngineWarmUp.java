import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.LibUtils;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/**
 * Run while an image is built, so that a libtorch the image cannot use fails the build rather than the first start.
 * On CPU it loads DJL's PyTorch engine offline (ai.djl.offline=true), which also extracts the native libraries into
 * DJL_CACHE_DIR so that a container starts with nothing to fetch.
 *
 * <p>{@code EngineWarmUp cpu}: loads libtorch from the pytorch-native-cpu jar. {@code EngineWarmUp gpu}: loads nothing,
 * only checks that the CUDA libtorch of the base image (PYTORCH_LIBRARY_PATH) has the files DJL loads and that DJL's
 * JNI exists for PYTORCH_FLAVOR and PYTORCH_VERSION. A CUDA libtorch cannot be loaded while an image is built: DJL 0.36
 * loads libcaffe2_nvrtc.so eagerly for every CUDA flavour, and that links the driver's libcuda.so.1, which the NVIDIA
 * runtime mounts only into a running container.
 */
public final class EngineWarmUp {
    private static final String EXPECTED_VERSION = "2.7.1";
    /** What DJL's LibUtils.loadLibTorch loads from a CUDA libtorch folder, by name. */
    private static final List<String> CUDA_LIBTORCH = List.of("libc10.so", "libc10_cuda.so", "libcaffe2_nvrtc.so", "libtorch_cpu.so",
            "libtorch_cuda.so", "libtorch.so");

    public static void main(String[] args) throws Exception {
        String variant = args.length > 0 ? args[0] : "cpu";
        System.setProperty("ai.djl.offline", "true");
        if (variant.equals("gpu")) {
            checkCudaLibtorch();
            return;
        }
        Engine engine = Engine.getEngine("PyTorch");
        String libtorch = LibUtils.getLibtorchPath();
        System.out.println("EngineWarmUp: " + engine.getEngineName() + " " + engine.getVersion() + ", libtorch " + libtorch
                + ", GPUs visible now: " + engine.getGpuCount());
        if (!engine.getVersion().startsWith(EXPECTED_VERSION)) {
            fail("PyTorch " + engine.getVersion() + " loaded, " + EXPECTED_VERSION + " expected (DJL's JNI is built for it)");
        }
        try (NDManager manager = engine.newBaseManager()) {
            NDArray sum = manager.ones(new ai.djl.ndarray.types.Shape(2, 3)).sum();
            if (sum.getFloat() != 6f) {
                fail("libtorch computed " + sum.getFloat() + " for the sum of six ones");
            }
        }
        System.out.println("EngineWarmUp: ok (" + variant + ")");
    }

    private static void checkCudaLibtorch() throws IOException {
        String flavor = System.getenv("PYTORCH_FLAVOR");
        String version = System.getenv("PYTORCH_VERSION");
        String dir = System.getenv("PYTORCH_LIBRARY_PATH");
        if (flavor == null || !flavor.startsWith("cu")) {
            fail("PYTORCH_FLAVOR=" + flavor + " is no CUDA flavour");
        }
        if (!EXPECTED_VERSION.equals(version)) {
            fail("PYTORCH_VERSION=" + version + ", " + EXPECTED_VERSION + " expected (DJL's JNI is built for it)");
        }
        if (dir == null) {
            fail("PYTORCH_LIBRARY_PATH is not set");
        }
        for (String library : CUDA_LIBTORCH) {
            if (!Files.isRegularFile(Path.of(dir, library))) {
                fail("PYTORCH_LIBRARY_PATH=" + dir + " has no " + library);
            }
        }
        ClassLoader loader = EngineWarmUp.class.getClassLoader();
        String jni = "jnilib/linux-x86_64/" + flavor + "/libdjl_torch.so";
        if (loader.getResource(jni) == null) {
            fail("DJL's pytorch-jni has no " + jni);
        }
        Properties properties = new Properties();
        try (InputStream in = loader.getResourceAsStream("jnilib/pytorch.properties")) {
            if (in == null) {
                fail("DJL's pytorch-jni is not on the class path");
            }
            properties.load(in);
        }
        String jniVersion = properties.getProperty("jni_version", "");
        if (!jniVersion.startsWith(version + "-")) {
            fail("DJL's JNI is built for " + jniVersion + ", the image has PyTorch " + version);
        }
        System.out.println("EngineWarmUp: ok (gpu: " + dir + ", JNI " + jni + " " + jniVersion + "; the engine loads at start)");
    }

    private static void fail(String message) {
        System.err.println("EngineWarmUp: " + message);
        System.exit(1);
    }
}
