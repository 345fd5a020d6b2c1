// IdxReader: MNIST / Fashion-MNIST IDX files (images 0x00000803, labels 0x00000801), gzip or raw.
package org.bnnas.data;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/** Reads IDX image and label files; every problem is a {@link DataException} naming the file. */
public final class IdxReader {
    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;

    private IdxReader() {}

    /** The images of one IDX file: {@code count} images of rows x cols unsigned bytes, row-major. */
    public record Images(int count, int rows, int cols, byte[] pixels) {}

    public static Images readImages(Path file) {
        ByteBuffer b = ByteBuffer.wrap(readBytes(file)); // big-endian by default, as IDX is
        checkMagic(file, b, IMAGES_MAGIC, 16);
        int count = b.getInt(), rows = b.getInt(), cols = b.getInt();
        if (count < 0 || rows <= 0 || cols <= 0) {
            throw new DataException(file + ": bad header (count " + count + ", rows " + rows + ", cols " + cols + ")");
        }
        long expected = (long) count * rows * cols;
        checkLength(file, b.remaining(), expected, count + " images of " + rows + "x" + cols);
        byte[] pixels = new byte[(int) expected];
        b.get(pixels);
        return new Images(count, rows, cols, pixels);
    }

    /** Labels as ints 0..255 (range against the class count is checked by the caller, who knows it). */
    public static int[] readLabels(Path file) {
        ByteBuffer b = ByteBuffer.wrap(readBytes(file));
        checkMagic(file, b, LABELS_MAGIC, 8);
        int count = b.getInt();
        if (count < 0) throw new DataException(file + ": bad header (count " + count + ")");
        checkLength(file, b.remaining(), count, count + " labels");
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) labels[i] = b.get() & 0xff;
        return labels;
    }

    /** The whole file, gunzipped when it starts with the gzip magic 0x1f8b (whatever its name). */
    static byte[] readBytes(Path file) {
        byte[] raw;
        try {
            raw = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": missing file");
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (raw.length >= 2 && (raw[0] & 0xff) == 0x1f && (raw[1] & 0xff) == 0x8b) {
            try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
                return in.readAllBytes();
            } catch (EOFException e) {
                throw new DataException(file + ": truncated file (gzip stream ends early)", e);
            } catch (ZipException e) {
                throw new DataException(file + ": corrupt gzip data (" + e.getMessage() + ")", e);
            } catch (IOException e) {
                throw new DataException(file + ": cannot decompress (" + e.getMessage() + ")", e);
            }
        }
        return raw;
    }

    private static void checkMagic(Path file, ByteBuffer b, int magic, int headerBytes) {
        if (b.remaining() < 4) throw new DataException(file + ": truncated file (" + b.remaining() + " bytes, no header)");
        int got = b.getInt();
        if (got != magic) {
            throw new DataException(String.format("%s: wrong magic number 0x%08x, expected 0x%08x", file, got, magic));
        }
        if (b.remaining() < headerBytes - 4) {
            throw new DataException(file + ": truncated file (header needs " + headerBytes + " bytes)");
        }
    }

    private static void checkLength(Path file, int remaining, long expected, String what) {
        if (remaining < expected) {
            throw new DataException(file + ": truncated file (" + what + " need " + expected + " bytes after the header, found " + remaining + ")");
        }
        if (remaining > expected) {
            // Extra bytes mean the header's count is wrong; reading on would mislabel data.
            throw new DataException(file + ": " + (remaining - expected) + " bytes after the " + what + " the header announces");
        }
    }
}
