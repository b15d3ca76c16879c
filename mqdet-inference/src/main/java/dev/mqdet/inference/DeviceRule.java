package dev.mqdet.inference;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.mqdet.inference.InferenceException.DeviceUnavailableException;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.IntSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which device the model runs on, and why: {@code mqdet.model.device} ("auto", "cpu", "gpu", "gpu:N") read against the
 * libtorch the process loads ({@code PYTORCH_FLAVOR}) and the CUDA driver on the library path.
 *
 * <p>A CUDA libtorch decides by itself: DJL's own GPU count finds cudart only through JNA's search path, which misses
 * the copy a PyTorch image keeps in its Python package folder, so "auto" would quietly pick the CPU on a GPU host.
 * And a CUDA libtorch does not even load without the driver (DJL loads libcaffe2_nvrtc.so, which links libcuda.so.1),
 * so a missing driver is refused here with a message that says so instead of an UnsatisfiedLinkError later.
 */
public final class DeviceRule {

    /** The CUDA driver's library; the NVIDIA container runtime mounts it into a container started with a GPU. */
    public static final String CUDA_DRIVER = "libcuda.so.1";
    /** Where distributions and the NVIDIA runtime put the driver, beside LD_LIBRARY_PATH and jna.library.path. */
    static final List<Path> SYSTEM_FOLDERS = List.of(Path.of("/usr/lib/x86_64-linux-gnu"), Path.of("/lib/x86_64-linux-gnu"),
            Path.of("/usr/lib64"), Path.of("/lib64"), Path.of("/usr/lib"), Path.of("/lib"), Path.of("/usr/local/nvidia/lib64"),
            Path.of("/usr/lib/wsl/lib"));
    private static final Pattern GPU = Pattern.compile("gpu(?::?(\\d+))?");

    /** The device, and the reason that is logged at start. */
    public record Choice(Device device, String reason) {
        public String logLine() {
            return "model device " + device + ": " + reason;
        }
    }

    private final String flavor;
    private final List<Path> libraryFolders;
    private final IntSupplier engineGpuCount;

    /**
     * @param flavor         PYTORCH_FLAVOR ("cpu", "cu128", ...), or null when unset (libtorch from the class path)
     * @param libraryFolders folders searched for {@link #CUDA_DRIVER}
     * @param engineGpuCount DJL's GPU count, asked only when the flavour is unset
     */
    public DeviceRule(String flavor, List<Path> libraryFolders, IntSupplier engineGpuCount) {
        this.flavor = flavor == null || flavor.isBlank() ? null : flavor.trim().toLowerCase(Locale.ROOT);
        this.libraryFolders = List.copyOf(libraryFolders);
        this.engineGpuCount = engineGpuCount;
    }

    /** The rule for this process: its PYTORCH_FLAVOR, LD_LIBRARY_PATH, jna.library.path and the system folders. */
    public static DeviceRule fromEnvironment() {
        return new DeviceRule(System.getenv("PYTORCH_FLAVOR"),
                driverFolders(System.getenv("LD_LIBRARY_PATH"), System.getProperty("jna.library.path")),
                () -> Engine.getEngine("PyTorch").getGpuCount());
    }

    /** The folders searched for the driver: LD_LIBRARY_PATH's, then jna.library.path's, then the system folders. */
    static List<Path> driverFolders(String ldLibraryPath, String jnaLibraryPath) {
        List<Path> folders = new ArrayList<>();
        addPath(folders, ldLibraryPath);
        addPath(folders, jnaLibraryPath);
        folders.addAll(SYSTEM_FOLDERS);
        return folders;
    }

    /** The device for the configured value; throws {@link DeviceUnavailableException} when it cannot work here. */
    public Choice choose(String configured) {
        String wanted = configured == null ? "" : configured.trim().toLowerCase(Locale.ROOT);
        Matcher gpu = GPU.matcher(wanted);
        if (wanted.equals("cpu")) {
            if (cuda()) {
                requireDriver("mqdet.model.device=cpu, but this libtorch (PYTORCH_FLAVOR=" + flavor + ") does not load without the "
                        + "CUDA driver either; run the cpu image (compose profile cpu)");
            }
            return new Choice(Device.cpu(), "mqdet.model.device=cpu");
        }
        if (gpu.matches()) {
            Device device = gpu.group(1) == null ? Device.gpu() : Device.gpu(Integer.parseInt(gpu.group(1)));
            if (flavor == null) {
                return new Choice(device, "mqdet.model.device=" + wanted + " (PYTORCH_FLAVOR not set: not checked against the libtorch)");
            }
            if (!cuda()) {
                throw new DeviceUnavailableException("mqdet.model.device=" + wanted + ", but PYTORCH_FLAVOR=" + flavor
                        + " is a libtorch without CUDA; run the gpu image, or set mqdet.model.device=cpu");
            }
            Path driver = requireDriver("mqdet.model.device=" + wanted + " on a CUDA libtorch (PYTORCH_FLAVOR=" + flavor + ")");
            return new Choice(device, "mqdet.model.device=" + wanted + ", PYTORCH_FLAVOR=" + flavor + ", CUDA driver " + driver);
        }
        if (wanted.equals("auto")) {
            return auto();
        }
        throw new DeviceUnavailableException("mqdet.model.device=" + configured + " is none of auto, cpu, gpu, gpu:N");
    }

    private Choice auto() {
        if (flavor == null) {
            int gpus = engineGpuCount.getAsInt();
            return gpus > 0
                    ? new Choice(Device.gpu(), "auto: PYTORCH_FLAVOR not set, the engine sees " + gpus + " GPU(s)")
                    : new Choice(Device.cpu(), "auto: PYTORCH_FLAVOR not set, the engine sees no GPU");
        }
        if (!cuda()) {
            return new Choice(Device.cpu(), "auto: PYTORCH_FLAVOR=" + flavor + " is a libtorch without CUDA");
        }
        // A CUDA image means a GPU: without the driver the answer is an error, never a silent CPU run.
        Path driver = requireDriver("mqdet.model.device=auto on a CUDA libtorch (PYTORCH_FLAVOR=" + flavor + ")");
        return new Choice(Device.gpu(), "auto: PYTORCH_FLAVOR=" + flavor + " is a CUDA libtorch and the CUDA driver is " + driver);
    }

    private boolean cuda() {
        return flavor != null && flavor.startsWith("cu");
    }

    private Path requireDriver(String context) {
        return driver().orElseThrow(() -> new DeviceUnavailableException(context + ": the CUDA driver " + CUDA_DRIVER
                + " is in none of " + libraryFolders + ". Start the container with a GPU (NVIDIA Container Toolkit; compose "
                + "profile gpu reserves one), or run the cpu image."));
    }

    private Optional<Path> driver() {
        return libraryFolders.stream().map(folder -> folder.resolve(CUDA_DRIVER)).filter(Files::exists).findFirst();
    }

    private static void addPath(List<Path> folders, String path) {
        if (path == null) {
            return;
        }
        for (String entry : path.split(File.pathSeparator)) {
            if (!entry.isBlank()) {
                folders.add(Path.of(entry));
            }
        }
    }
}
