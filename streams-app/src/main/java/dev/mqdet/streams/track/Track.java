package dev.mqdet.streams.track;

import dev.mqdet.inference.Box;
import java.util.ArrayDeque;

/** One object followed over the frames of a source: where it was, how it moves, and what was last published of it. */
final class Track {

    final int number;
    final String categoryId;
    String label;
    Box box;
    float vx; // pixels per millisecond of capture time, smoothed
    float vy;
    float score;
    float bestScore;
    final long firstSeenMs;
    long lastSeenMs;
    int frameCount;
    int missed;
    final ArrayDeque<String> eventIds = new ArrayDeque<>();
    Box publishedBox;
    float publishedScore;

    Track(int number, String categoryId, String label, Box box, float score, long firstSeenMs) {
        this.number = number;
        this.categoryId = categoryId;
        this.label = label;
        this.box = box;
        this.score = score;
        this.bestScore = score;
        this.firstSeenMs = firstSeenMs;
        this.lastSeenMs = firstSeenMs;
    }

    /** Where the object should be at {@code atMs}, moving on as it moved. */
    Box predicted(long atMs) {
        float dt = Math.max(0, atMs - lastSeenMs);
        return new Box(box.x1() + vx * dt, box.y1() + vy * dt, box.x2() + vx * dt, box.y2() + vy * dt);
    }

    /** Seen again: a new box and score; the velocity follows the move of the box centre. */
    void seen(Box newBox, float newScore, long atMs, String eventId, int maxEventIds) {
        float dt = atMs - lastSeenMs;
        // A box that changed size a lot is an occlusion or two objects seen as one: its move says nothing of the object's.
        boolean sameSize = ratio(newBox.width(), box.width()) < 1.25f && ratio(newBox.height(), box.height()) < 1.25f;
        if (dt > 0 && sameSize) {
            float mx = ((newBox.x1() + newBox.x2()) - (box.x1() + box.x2())) / 2 / dt;
            float my = ((newBox.y1() + newBox.y2()) - (box.y1() + box.y2())) / 2 / dt;
            vx = frameCount <= 1 ? mx : 0.5f * vx + 0.5f * mx;
            vy = frameCount <= 1 ? my : 0.5f * vy + 0.5f * my;
        }
        box = newBox;
        score = newScore;
        bestScore = Math.max(bestScore, newScore);
        lastSeenMs = atMs;
        frameCount++;
        missed = 0;
        addEventId(eventId, maxEventIds);
    }

    private static float ratio(float a, float b) {
        return a <= 0 || b <= 0 ? Float.MAX_VALUE : Math.max(a / b, b / a);
    }

    void addEventId(String eventId, int maxEventIds) {
        eventIds.addLast(eventId);
        while (eventIds.size() > maxEventIds) {
            eventIds.removeFirst();
        }
    }

    String trackId(String source) {
        return source + "/" + number;
    }
}
