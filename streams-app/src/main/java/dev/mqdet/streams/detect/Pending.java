package dev.mqdet.streams.detect;

import dev.mqdet.events.ImageEvent;

/** An accepted image event in the buffer: its buffer sequence, the record as read, and the decoded event. */
record Pending(long sequence, BufferedImageEvent buffered, ImageEvent event) {}
