package dev.mqdet.inference;

/** An axis-aligned box, xyxy in pixels. */
public record Box(float x1, float y1, float x2, float y2) {

    public float width() {
        return x2 - x1;
    }

    public float height() {
        return y2 - y1;
    }

    public float area() {
        return Math.max(0f, width()) * Math.max(0f, height());
    }

    public Box scaled(float factor) {
        return new Box(x1 * factor, y1 * factor, x2 * factor, y2 * factor);
    }

    public Box clippedTo(int width, int height) {
        return new Box(clamp(x1, width), clamp(y1, height), clamp(x2, width), clamp(y2, height));
    }

    /** Intersection over union, continuous coordinates (no +1), as COCO computes it. */
    public double iou(Box other) {
        double iw = Math.max(0, Math.min(x2, other.x2) - Math.max(x1, other.x1));
        double ih = Math.max(0, Math.min(y2, other.y2) - Math.max(y1, other.y1));
        double inter = iw * ih;
        double union = (double) area() + other.area() - inter;
        return union <= 0 ? 0 : inter / union;
    }

    private static float clamp(float v, int max) {
        return Math.min(Math.max(v, 0f), max);
    }
}
