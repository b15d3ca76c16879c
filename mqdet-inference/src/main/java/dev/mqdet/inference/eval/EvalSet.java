package dev.mqdet.inference.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mqdet.inference.Box;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The held-out evaluation set on disk ({@code models/synth-eval}): PNG scenes, COCO annotations, the categories
 * with their split (common, rare, ambiguous) and the exemplars (image + box) of every evaluated category.
 */
public record EvalSet(Path dir, List<Image> images, List<CocoEvaluator.GroundTruth> truths, List<Category> categories,
                      List<Image> exemplarImages, List<ExemplarRef> exemplars) {

    public record Image(int id, String fileName, int width, int height) {}

    public record Category(int id, String name, String split, boolean evaluate) {}

    /** One exemplar: which category, in which exemplar image, where (original pixels). */
    public record ExemplarRef(int id, int imageId, int categoryId, Box box) {}

    public static EvalSet load(Path dir) {
        try {
            JsonNode doc = new ObjectMapper().readTree(dir.resolve("annotations.json").toFile());
            List<Image> images = images(doc.path("images"));
            List<CocoEvaluator.GroundTruth> truths = new ArrayList<>();
            for (JsonNode a : doc.path("annotations")) {
                JsonNode b = a.path("bbox");
                truths.add(new CocoEvaluator.GroundTruth(a.path("image_id").asInt(), a.path("category_id").asInt(),
                        new CocoEvaluator.XYWH(b.get(0).asDouble(), b.get(1).asDouble(), b.get(2).asDouble(), b.get(3).asDouble())));
            }
            List<Category> categories = new ArrayList<>();
            for (JsonNode c : doc.path("categories")) {
                categories.add(new Category(c.path("id").asInt(), c.path("name").asText(), c.path("split").asText(),
                        c.path("evaluate").asBoolean(false)));
            }
            List<ExemplarRef> exemplars = new ArrayList<>();
            for (JsonNode e : doc.path("exemplars")) {
                JsonNode b = e.path("bbox");
                float x = (float) b.get(0).asDouble();
                float y = (float) b.get(1).asDouble();
                exemplars.add(new ExemplarRef(e.path("id").asInt(), e.path("image_id").asInt(), e.path("category_id").asInt(),
                        new Box(x, y, x + (float) b.get(2).asDouble(), y + (float) b.get(3).asDouble())));
            }
            return new EvalSet(dir, images, truths, categories, images(doc.path("exemplar_images")), exemplars);
        } catch (IOException e) {
            throw new UncheckedIOException("evaluation set " + dir + " is unreadable", e);
        }
    }

    public List<Category> evaluated() {
        return categories.stream().filter(Category::evaluate).toList();
    }

    public byte[] read(Image image) {
        try {
            return Files.readAllBytes(dir.resolve(image.fileName()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Image> images(JsonNode array) {
        List<Image> images = new ArrayList<>();
        for (JsonNode i : array) {
            images.add(new Image(i.path("id").asInt(), i.path("file_name").asText(), i.path("width").asInt(), i.path("height").asInt()));
        }
        return images;
    }
}
