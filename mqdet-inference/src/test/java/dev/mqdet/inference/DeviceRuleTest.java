package dev.mqdet.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import dev.mqdet.inference.InferenceException.DeviceUnavailableException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The device rule without a GPU: flavours, driver folders and the engine's count are given, not looked up. */
class DeviceRuleTest {

    /** Stands for DJL's count where the rule must not ask it (a CUDA flavour decides by itself). */
    private static final IntSupplier NOT_ASKED = () -> {
        throw new AssertionError("the engine's GPU count was asked");
    };

    @TempDir
    Path temp;

    @Test
    void autoOnACudaLibtorchWithTheDriverChoosesTheGpuAndSaysWhy() throws IOException {
        Path driverFolder = withDriver("nvidia");
        Path empty = Files.createDirectories(temp.resolve("empty"));
        DeviceRule.Choice choice = new DeviceRule("cu128", List.of(empty, driverFolder), NOT_ASKED).choose("auto");
        assertThat(choice.device()).isEqualTo(Device.gpu());
        assertThat(choice.logLine()).startsWith("model device gpu(0): auto: PYTORCH_FLAVOR=cu128 is a CUDA libtorch")
                .contains(driverFolder.resolve(DeviceRule.CUDA_DRIVER).toString());
    }

    @Test
    void aCudaLibtorchWithoutTheDriverIsRefusedAtStartNotRunOnTheCpu() throws IOException {
        Path empty = Files.createDirectories(temp.resolve("no-driver"));
        DeviceRule rule = new DeviceRule("cu128", List.of(empty), NOT_ASKED);
        for (String configured : List.of("auto", "gpu", "gpu:0", "cpu")) {
            assertThatThrownBy(() -> rule.choose(configured)).as(configured)
                    .isInstanceOf(DeviceUnavailableException.class)
                    .hasMessageContaining("mqdet.model.device=" + configured)
                    .hasMessageContaining("CUDA driver libcuda.so.1 is in none of [" + empty + "]")
                    .hasMessageContaining("Start the container with a GPU");
        }
    }

    @Test
    void explicitGpusAreCheckedAgainstTheLibtorch() throws IOException {
        Path driverFolder = withDriver("lib64");
        DeviceRule cuda = new DeviceRule("cu128", List.of(driverFolder), NOT_ASKED);
        assertThat(cuda.choose("gpu").device()).isEqualTo(Device.gpu(0));
        assertThat(cuda.choose("gpu:1").device()).isEqualTo(Device.gpu(1));
        assertThat(cuda.choose("GPU1").reason()).startsWith("mqdet.model.device=gpu1, PYTORCH_FLAVOR=cu128, CUDA driver ");
        assertThatThrownBy(() -> new DeviceRule("cpu", List.of(driverFolder), NOT_ASKED).choose("gpu"))
                .isInstanceOf(DeviceUnavailableException.class)
                .hasMessage("mqdet.model.device=gpu, but PYTORCH_FLAVOR=cpu is a libtorch without CUDA; run the gpu image, "
                        + "or set mqdet.model.device=cpu");
        assertThatThrownBy(() -> cuda.choose("tpu")).isInstanceOf(DeviceUnavailableException.class)
                .hasMessage("mqdet.model.device=tpu is none of auto, cpu, gpu, gpu:N");
    }

    @Test
    void aCpuLibtorchRunsOnTheCpuWhateverTheHostHas() throws IOException {
        Path driverFolder = withDriver("host");
        DeviceRule.Choice choice = new DeviceRule("cpu", List.of(driverFolder), NOT_ASKED).choose("auto");
        assertThat(choice.logLine()).isEqualTo("model device cpu(): auto: PYTORCH_FLAVOR=cpu is a libtorch without CUDA");
        assertThat(new DeviceRule("cu128", List.of(driverFolder), NOT_ASKED).choose("cpu").device()).isEqualTo(Device.cpu());
    }

    @Test
    void withoutAFlavourAutoFollowsTheEngine() {
        assertThat(new DeviceRule(null, List.of(), () -> 2).choose("auto").logLine())
                .isEqualTo("model device gpu(0): auto: PYTORCH_FLAVOR not set, the engine sees 2 GPU(s)");
        assertThat(new DeviceRule("", List.of(), () -> 0).choose(" AUTO ").logLine())
                .isEqualTo("model device cpu(): auto: PYTORCH_FLAVOR not set, the engine sees no GPU");
        assertThat(new DeviceRule(null, List.of(), NOT_ASKED).choose("cpu").device()).isEqualTo(Device.cpu());
    }

    @Test
    void theDriverIsSearchedInLdLibraryPathThenJnaThenTheSystemFolders() {
        List<Path> folders = DeviceRule.driverFolders("/usr/local/nvidia/lib:/usr/local/nvidia/lib64", "/opt/cudart/lib");
        assertThat(folders.subList(0, 3)).containsExactly(Path.of("/usr/local/nvidia/lib"), Path.of("/usr/local/nvidia/lib64"),
                Path.of("/opt/cudart/lib"));
        assertThat(folders).contains(Path.of("/usr/lib/x86_64-linux-gnu"));
        assertThat(DeviceRule.driverFolders(null, "")).isEqualTo(DeviceRule.SYSTEM_FOLDERS);
    }

    private Path withDriver(String name) throws IOException {
        Path folder = Files.createDirectories(temp.resolve(name));
        Files.createFile(folder.resolve(DeviceRule.CUDA_DRIVER));
        return folder;
    }
}
