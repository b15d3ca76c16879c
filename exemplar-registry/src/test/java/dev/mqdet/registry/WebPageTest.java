package dev.mqdet.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mqdet.events.BoundingBox;
import dev.mqdet.events.Detection;
import dev.mqdet.events.DetectionEvent;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.events.ImageEvent;
import dev.mqdet.events.InlineImage;
import dev.mqdet.events.Timings;
import dev.mqdet.schemaregistry.RestSchemaRegistryClient;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import dev.mqdet.topics.Topics;
import java.awt.Color;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web page in a real headless Chromium (Debian's chromium and chromedriver, driven by Selenium): a person creates
 * a query set and a category with two exemplars whose boxes are drawn with the mouse, sees the crops, and the
 * category lands on the topic with those boxes; then detection events produced to the real broker are drawn on their
 * images in the live view. Skipped, with a message, only where chromium or chromedriver is not installed.
 */
@ExtendWith(LocalStackExtension.class)
class WebPageTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    @TempDir
    Path tmp;

    private WebDriver driver;

    @BeforeEach
    void startBrowser() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "browser tests skipped: /usr/bin/chromium and /usr/bin/chromedriver are needed (apt-get install -y chromium chromium-driver)");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--window-size=1500,1100", "--user-data-dir=" + Files.createDirectories(tmp.resolve("profile")));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        driver = new ChromeDriver(service, options);
    }

    @AfterEach
    void stopBrowser() {
        if (driver != null) {
            driver.quit();
        }
    }

    @Test
    void personCreatesACategoryWithTwoDrawnExemplarsAndSeesLiveDetections(LocalStack stack) throws Exception {
        Path first = Files.write(tmp.resolve("first.png"), TestImages.png(200, 150));
        Path second = Files.write(tmp.resolve("second.jpg"), TestImages.jpeg(300, 200));
        try (RegistryHarness h = new RegistryHarness(stack, Map.of("registry.live.enabled", "true"))) {
            WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(20));
            driver.get(h.url() + "/");
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token"))).sendKeys(RegistryHarness.TOKEN);
            driver.findElement(By.id("save-token")).click();
            driver.findElement(By.id("new-set-id")).sendKeys("web");
            driver.findElement(By.id("new-set")).click();
            wait.until(ExpectedConditions.textToBe(By.id("set-title"), "web"));
            driver.findElement(By.id("category-id")).sendKeys("pupfish");
            driver.findElement(By.id("category-label")).sendKeys("devil's hole pupfish");
            driver.findElement(By.id("category-threshold")).sendKeys("0.6");

            int[] box1 = drawExemplar(wait, first, 200, 150, 20, 30, 120, 100);
            int[] box2 = drawExemplar(wait, second, 300, 200, 50, 40, 250, 160);
            assertThat(driver.findElements(By.cssSelector("#pending .pending-exemplar"))).hasSize(2);
            driver.findElement(By.id("save-category")).click();

            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("status"), "Created category pupfish"));
            wait.until(d -> d.findElements(By.cssSelector(".category[data-category-id='pupfish'] canvas.crop[data-drawn='true']")).size() == 2);
            assertThat(driver.findElement(By.cssSelector("#query-sets li[data-query-set='web']")).getText()).contains("web (1)");

            // What the page saved is what the API serves and what is on the topic: the drawn boxes, the original bytes.
            JsonNode category = h.get("/api/query-sets/web/categories/pupfish").json();
            assertThat(category.get("label").asText()).isEqualTo("devil's hole pupfish");
            assertThat(category.get("scoreThreshold").asDouble()).isEqualTo(0.6, org.assertj.core.api.Assertions.within(1e-6));
            assertThat(driver.findElement(By.cssSelector(".category[data-category-id='pupfish'] h3")).getText()).contains("threshold 0.60");
            assertBox(category.at("/exemplars/0/box"), box1);
            assertBox(category.at("/exemplars/1/box"), box2);
            List<ConsumerRecord<String, ExemplarQuery>> records = h.records();
            assertThat(records).hasSize(1);
            assertThat(records.get(0).key()).isEqualTo("web/pupfish");
            ExemplarQuery saved = records.get(0).value();
            assertThat(saved.getUpdatedBy()).isEqualTo("registry-token/web");
            assertThat(QuerySetApiTest.bytes(saved.getExemplars().get(0).getImage().getData())).isEqualTo(Files.readAllBytes(first));
            assertThat(QuerySetApiTest.bytes(saved.getExemplars().get(1).getImage().getData())).isEqualTo(Files.readAllBytes(second));
            assertThat(saved.getExemplars().get(1).getImage().getMediaType()).isEqualTo("image/jpeg");

            // A refused save shows the field errors and writes nothing.
            driver.findElement(By.id("category-id")).sendKeys("bad id!");
            driver.findElement(By.id("category-id")).clear();
            driver.findElement(By.id("category-id")).sendKeys("second");
            driver.findElement(By.id("category-label")).clear();
            driver.findElement(By.id("category-label")).sendKeys("x".repeat(201));
            driver.findElement(By.id("save-category")).click();
            wait.until(d -> !d.findElements(By.cssSelector("#status .field-error")).isEmpty());
            assertThat(driver.findElement(By.cssSelector("#status .field-error")).getText()).startsWith("label:").contains("at most 200");
            assertThat(h.records()).hasSize(1);

            produceDetection(stack, h);
            By event = By.cssSelector(".live-event[data-event-id='cam1-0001'][data-boxes='3']");
            wait.until(ExpectedConditions.presenceOfElementLocated(event));
            // The image was drawn (its green, not the grey placeholder) and each box in its category's colour.
            assertThat(pixel(event, 160, 20)).isEqualTo(List.of(40L, 120L, 40L));
            assertThat(pixel(event, 30, 100)).isEqualTo(List.of(229L, 57L, 53L));   // left edge of box 1, #e53935
            assertThat(pixel(event, 210, 150)).isEqualTo(List.of(30L, 136L, 229L)); // left edge of box 2, #1e88e5
            assertThat(driver.findElement(event).getText()).contains("cam1-0001").contains("3 detection(s)");

            // Feedback: the first pupfish is confirmed, the third (reaching past the image) rejected; each an ordinary
            // registry write of the detected box in the event's own image.
            List<WebElement> items = driver.findElement(event).findElements(By.cssSelector(".live-detections li"));
            items.get(0).findElement(By.cssSelector("button.feedback[data-verdict='confirm']")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("status"), "to pupfish"));
            assertThat(driver.findElement(By.id("status")).getText()).startsWith("Added exemplar ");
            items.get(2).findElement(By.cssSelector("button.feedback[data-verdict='reject']")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("status"), "Added negative exemplar "));
            assertThat(items.get(0).findElement(By.cssSelector("button.feedback[data-verdict='reject']")).isEnabled()).isFalse();
            wait.until(d -> d.findElements(By.cssSelector(".category[data-category-id='pupfish'] .crops.negatives canvas.crop[data-drawn='true']")).size() == 1);

            JsonNode judged = h.get("/api/query-sets/web/categories/pupfish").json();
            assertThat(judged.get("exemplars")).hasSize(3);
            assertBox(judged.at("/exemplars/2/box"), new int[] {30, 40, 130, 160});
            assertThat(judged.get("negatives")).hasSize(1);
            assertBox(judged.at("/negatives/0/box"), new int[] {240, 10, 320, 60}); // clamped to the 320 px wide image
            List<ConsumerRecord<String, ExemplarQuery>> afterFeedback = h.records();
            assertThat(afterFeedback).hasSize(3);
            ExemplarQuery last = afterFeedback.get(2).value();
            assertThat(last.getExemplars()).hasSize(3);
            assertThat(last.getNegatives()).hasSize(1);
            assertThat(last.getUpdatedBy()).isEqualTo("registry-token/feedback");
            assertThat(QuerySetApiTest.bytes(last.getNegatives().get(0).getImage().getData()))
                    .isEqualTo(QuerySetApiTest.bytes(last.getExemplars().get(2).getImage().getData())); // the event's image, twice

            Files.write(Path.of("target", "web-page.png"), ((ChromeDriver) driver).getScreenshotAs(OutputType.BYTES));
        }
    }

    /**
     * Chooses an image file and drags a box on the editor canvas, in image pixels (the canvas shows it at scale 1);
     * returns the box the page shows, which must be the dragged one give or take a pixel of layout rounding.
     */
    private int[] drawExemplar(WebDriverWait wait, Path file, int width, int height, int x1, int y1, int x2, int y2) {
        driver.findElement(By.id("exemplar-file")).sendKeys(file.toAbsolutePath().toString());
        WebElement canvas = driver.findElement(By.id("editor-canvas"));
        wait.until(d -> String.valueOf(width).equals(canvas.getAttribute("width")) && String.valueOf(height).equals(canvas.getAttribute("height")));
        // Selenium 4 offsets are from the element's centre.
        new Actions(driver)
                .moveToElement(canvas, x1 - width / 2, y1 - height / 2)
                .clickAndHold()
                .moveByOffset((x2 - x1) / 2, (y2 - y1) / 2)
                .moveByOffset(x2 - x1 - (x2 - x1) / 2, y2 - y1 - (y2 - y1) / 2)
                .release()
                .perform();
        wait.until(ExpectedConditions.elementToBeClickable(By.id("add-pending")));
        int[] shown = java.util.Arrays.stream(driver.findElement(By.id("box-text")).getText().split(",\\s*")).mapToInt(Integer::parseInt).toArray();
        int[] dragged = {x1, y1, x2, y2};
        for (int i = 0; i < 4; i++) {
            assertThat(shown[i]).as("box coordinate %d", i).isCloseTo(dragged[i], org.assertj.core.data.Offset.offset(1));
        }
        driver.findElement(By.id("add-pending")).click();
        return shown;
    }

    private static void assertBox(JsonNode box, int[] expected) {
        assertThat(List.of(box.get("x1").asDouble(), box.get("y1").asDouble(), box.get("x2").asDouble(), box.get("y2").asDouble()))
                .containsExactly((double) expected[0], (double) expected[1], (double) expected[2], (double) expected[3]);
    }

    @SuppressWarnings("unchecked")
    private List<Long> pixel(By event, int x, int y) {
        WebElement canvas = driver.findElement(event).findElement(By.tagName("canvas"));
        Object rgb = ((JavascriptExecutor) driver).executeScript(
                "const d = arguments[0].getContext('2d').getImageData(arguments[1], arguments[2], 1, 1).data; return [d[0], d[1], d[2]];",
                canvas, x, y);
        return (List<Long>) rgb;
    }

    /** An image event with a plain green 320x240 PNG, and its detection event with boxes of two categories. */
    private static void produceDetection(LocalStack stack, RegistryHarness h) throws Exception {
        String images = h.settings.get("registry.images.topic");
        String detections = h.settings.get("registry.detections.topic");
        stack.kafka().createTopic(images, 1, Map.of());
        stack.kafka().createTopic(detections, 1, Map.of());
        java.awt.image.BufferedImage plain = new java.awt.image.BufferedImage(320, 240, java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = plain.createGraphics();
        g.setColor(new Color(40, 120, 40));
        g.fillRect(0, 0, 320, 240);
        g.dispose();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(plain, "png", out);
        byte[] png = out.toByteArray();

        RestSchemaRegistryClient registry = new RestSchemaRegistryClient(Map.of("schema.registry.url", stack.schemaRegistryUrl()));
        ImageEvent image = ImageEvent.newBuilder().setEventId("cam1-0001").setSource("cam1").setQuerySetId("web")
                .setCapturedAtMs(Instant.now()).setImage(InlineImage.newBuilder().setData(ByteBuffer.wrap(png)).setMediaType("image/png").build())
                .setAttributes(Map.of()).build();
        DetectionEvent detection = DetectionEvent.newBuilder().setEventId("cam1-0001").setSource("cam1").setQuerySetId("web")
                .setQuerySetVersion(1).setModelId("mqdet-test").setImageWidth(320).setImageHeight(240)
                .setDetections(List.of(
                        Detection.newBuilder().setCategoryId("pupfish").setLabel("devil's hole pupfish").setScore(0.91f)
                                .setBox(BoundingBox.newBuilder().setX1(30).setY1(40).setX2(130).setY2(160).build()).build(),
                        Detection.newBuilder().setCategoryId("bat").setLabel(null).setScore(0.55f)
                                .setBox(BoundingBox.newBuilder().setX1(210).setY1(100).setX2(300).setY2(220).build()).build(),
                        Detection.newBuilder().setCategoryId("pupfish").setLabel("devil's hole pupfish").setScore(0.48f)
                                .setBox(BoundingBox.newBuilder().setX1(240).setY1(10).setX2(330).setY2(60).build()).build()))
                .setTimings(Timings.newBuilder().setQueueMs(3).setInferenceMs(40).setBatchSize(1).build())
                .setAttributes(Map.of()).setDetectedAtMs(Instant.now()).build();
        try (KafkaProducer<String, ImageEvent> imageProducer = new KafkaProducer<>(Map.of("bootstrap.servers", stack.bootstrapServers()),
                new StringSerializer(), Topics.IMAGES.valueSerde(registry).serializer());
             KafkaProducer<String, DetectionEvent> detectionProducer = new KafkaProducer<>(Map.of("bootstrap.servers", stack.bootstrapServers()),
                     new StringSerializer(), Topics.DETECTIONS.valueSerde(registry).serializer())) {
            imageProducer.send(new ProducerRecord<>(images, image.getEventId(), image)).get();
            detectionProducer.send(new ProducerRecord<>(detections, detection.getEventId(), detection)).get();
        }
    }

}
