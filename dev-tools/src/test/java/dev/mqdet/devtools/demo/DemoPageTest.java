package dev.mqdet.devtools.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mqdet.client.PipelineClient;
import dev.mqdet.client.SyntheticWorld;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.InlineImage;
import dev.mqdet.topics.Topics;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The demo as a newcomer plays with it, in a real headless Chromium: {@code ./mqdet demo --keep-running} (its main,
 * as a child process) prints the registry page; on the page a person adds a category with one exemplar box drawn on
 * an image; an image event is produced; its detection of that category appears on the page. Then SIGTERM stops the
 * demo within 30 s and leaves no process behind. Skipped, with the reason, where chromium is not installed.
 */
class DemoPageTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Path ROOT = Path.of(System.getProperty("mqdet.repo.root", "..")).toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    @Test
    void aCategoryAddedOnTheDemoPageIsDetectedAndShownThere() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "browser tests skipped: /usr/bin/chromium and /usr/bin/chromedriver are needed (apt-get install -y chromium chromium-driver)");
        Path out = tmp.resolve("demo-out");
        ProcessBuilder builder = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"), DemoCommand.class.getName(),
                "--keep-running", "--events", "3", "--sequences", "0", "--http-port", "0", "--registry-port", "0", "--out", out.toString())
                .redirectErrorStream(true);
        builder.environment().put("MQDET_HOME", ROOT.toString());
        Process demo = builder.start();
        StringBuffer log = new StringBuffer();
        Thread reader = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(demo.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = lines.readLine()) != null; ) {
                    log.append(line).append('\n');
                }
            } catch (java.io.IOException ignored) {
                // the process ended
            }
        });
        reader.setDaemon(true);
        reader.start();
        WebDriver driver = null;
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
            while (!log.toString().contains("Ctrl-C stops everything")) {
                assertThat(demo.isAlive()).as("the demo ended before it was ready:%n%s", log).isTrue();
                assertThat(System.nanoTime()).as("the demo was not ready in 4 minutes:%n%s", log).isLessThan(deadline);
                Thread.sleep(200);
            }
            Map<String, String> env = env(out.resolve("demo.env"));
            assertThat(log.toString()).contains("exemplar registry page " + env.get("MQDET_REGISTRY_URL") + "/");

            driver = browser();
            WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
            driver.get(env.get("MQDET_REGISTRY_URL") + "/");
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token"))).sendKeys(env.get("MQDET_REGISTRY_TOKEN"));
            driver.findElement(By.id("save-token")).click();
            wait.until(ExpectedConditions.elementToBeClickable(By.cssSelector("#query-sets li[data-query-set='wildlife-demo'] button"))).click();
            wait.until(ExpectedConditions.textToBe(By.id("set-title"), "wildlife-demo"));
            driver.findElement(By.id("category-id")).sendKeys("pupfish");
            driver.findElement(By.id("category-label")).sendKeys("devil's hole pupfish");
            drawExemplar(driver, wait, ROOT.resolve("models/synth-eval/exemplars/exemplar_0001.png"), 177, 139, 236, 186);
            driver.findElement(By.id("save-category")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("status"), "Created category pupfish"));

            try (PipelineClient client = new PipelineClient(env.get("MQDET_BOOTSTRAP_SERVERS"), env.get("MQDET_SCHEMA_REGISTRY_URL"))) {
                // The streams app encodes the new exemplar in about a second; an image sent before that is detected without it.
                assertThat(client.read(Topics.EXEMPLAR_EMBEDDINGS, r -> r.stream().anyMatch(e -> e.key().endsWith("/wildlife-demo/pupfish")),
                        Duration.ofMinutes(1))).as("the new category was encoded").isNotNull();
                client.publish(ImageEvent.newBuilder().setEventId("page-pupfish").setSource("demo-page-test").setQuerySetId("wildlife-demo")
                        .setCapturedAtMs(Instant.now())
                        .setImage(new InlineImage(ByteBuffer.wrap(Files.readAllBytes(ROOT.resolve("models/synth-eval/images/eval_0022.png"))), "image/png"))
                        .build());
                client.flush();
            }
            By found = By.cssSelector(".live-event[data-event-id='page-pupfish'] .live-detections li[data-category-id='pupfish']");
            WebElement detection = new WebDriverWait(driver, Duration.ofSeconds(60)).until(ExpectedConditions.presenceOfElementLocated(found));
            assertThat(detection.getText()).startsWith("devil's hole pupfish");
        } finally {
            if (driver != null) {
                driver.quit();
            }
            List<ProcessHandle> descendants = demo.descendants().toList();
            demo.destroy(); // SIGTERM
            boolean stopped = demo.waitFor(30, TimeUnit.SECONDS);
            List<ProcessHandle> left = descendants.stream().filter(ProcessHandle::isAlive).toList();
            if (!stopped) {
                demo.destroyForcibly();
            }
            left.forEach(ProcessHandle::destroyForcibly);
            assertThat(stopped).as("the demo stopped within 30 s of SIGTERM").isTrue();
            assertThat(left).as("processes the demo started are gone").isEmpty();
        }
    }

    private WebDriver browser() throws Exception {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--window-size=1500,1100", "--user-data-dir=" + Files.createDirectories(tmp.resolve("profile")));
        return new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build(), options);
    }

    /** Chooses the image and drags the box on the editor canvas, which shows the image at scale 1. */
    private static void drawExemplar(WebDriver driver, WebDriverWait wait, Path file, int x1, int y1, int x2, int y2) {
        driver.findElement(By.id("exemplar-file")).sendKeys(file.toString());
        WebElement canvas = driver.findElement(By.id("editor-canvas"));
        wait.until(d -> !"0".equals(canvas.getAttribute("width")) && canvas.getAttribute("width") != null && Integer.parseInt(canvas.getAttribute("width")) > 100);
        int width = Integer.parseInt(canvas.getAttribute("width"));
        int height = Integer.parseInt(canvas.getAttribute("height"));
        new Actions(driver) // Selenium 4 offsets are from the element's centre
                .moveToElement(canvas, x1 - width / 2, y1 - height / 2)
                .clickAndHold()
                .moveByOffset((x2 - x1) / 2, (y2 - y1) / 2)
                .moveByOffset(x2 - x1 - (x2 - x1) / 2, y2 - y1 - (y2 - y1) / 2)
                .release()
                .perform();
        wait.until(ExpectedConditions.elementToBeClickable(By.id("add-pending"))).click();
    }

    private static Map<String, String> env(Path file) throws java.io.IOException {
        Map<String, String> env = new HashMap<>();
        for (String line : Files.readAllLines(file)) {
            String[] assignment = line.replaceFirst("^export ", "").split("=", 2);
            env.put(assignment[0], assignment[1]);
        }
        return env;
    }
}
