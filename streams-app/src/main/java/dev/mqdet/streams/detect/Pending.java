package dev.mqdet.streams.detect;

import dev.mqdet.events.ImageEvent;
import org.apache.kafka.common.utils.Bytes;

/** An accepted image event in the buffer: its buffer sequence and store key, the record as read, and the decoded event. */
record Pending(long sequence, Bytes storeKey, BufferedImageEvent buffered, ImageEvent event) {}
