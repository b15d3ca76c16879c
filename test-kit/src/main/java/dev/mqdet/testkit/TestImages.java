package dev.mqdet.testkit;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.zip.CRC32;

/** Hostile images for tests. */
public final class TestImages {
    private TestImages() {}

    /**
     * A PNG signature and a valid IHDR chunk declaring {@code width x height} 8-bit RGB pixels, and nothing else:
     * a decompression bomb's header in 33 bytes (or, with a zero side, an impossible image).
     */
    public static byte[] pngHeaderOnly(int width, int height) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            DataOutputStream data = new DataOutputStream(out);
            data.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a});
            ByteArrayOutputStream chunk = new ByteArrayOutputStream();
            DataOutputStream c = new DataOutputStream(chunk);
            c.writeBytes("IHDR");
            c.writeInt(width);
            c.writeInt(height);
            c.write(new byte[] {8, 2, 0, 0, 0});
            byte[] body = chunk.toByteArray();
            data.writeInt(body.length - 4);
            data.write(body);
            CRC32 crc = new CRC32();
            crc.update(body);
            data.writeInt((int) crc.getValue());
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
