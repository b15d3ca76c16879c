package dev.mqdet.registry;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;

/** Real encoded images made in memory: a coloured rectangle on a plain background. */
final class TestImages {
    private TestImages() {}

    static byte[] png(int width, int height) {
        return encode("png", width, height, Color.RED);
    }

    static byte[] jpeg(int width, int height) {
        return encode("jpeg", width, height, Color.BLUE);
    }

    static byte[] encode(String format, int width, int height, Color object) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(Color.LIGHT_GRAY);
        g.fillRect(0, 0, width, height);
        g.setColor(object);
        g.fillRect(width / 4, height / 4, width / 2, height / 2);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(image, format, out)) {
                throw new IllegalStateException("no writer for " + format);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * A PNG that is only a signature and an IHDR chunk claiming {@code width x height}: its header reads fine, but it
     * has no pixel data, so any attempt to decode it fails. Refusing it for its pixel count proves the limit is checked
     * from the header, before decoding.
     */
    static byte[] pngHeaderOnly(int width, int height) {
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        byte[] type = {'I', 'H', 'D', 'R'};
        CRC32 crc = new CRC32();
        crc.update(type);
        crc.update(ihdr.array());
        ByteBuffer out = ByteBuffer.allocate(8 + 4 + 4 + 13 + 4);
        out.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a});
        out.putInt(13).put(type).put(ihdr.array()).putInt((int) crc.getValue());
        return out.array();
    }

    static byte[] truncated(byte[] image) {
        return Arrays.copyOf(image, image.length / 2);
    }
}
