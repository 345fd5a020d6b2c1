// CifarReader: the CIFAR-10 binary version (records of 1 label byte + 3072 pixel bytes, R then G then B planes).
package org.bnnas.data;

import java.nio.file.Path;
import java.util.List;

/**
 * Reads CIFAR-10 .bin files. The official files hold 10000 records each; any whole number of records
 * is accepted (so tests can use small files), but a length that is not a multiple of 3073 is refused.
 */
public final class CifarReader {
    public static final int IMAGE_BYTES = 3 * 32 * 32;
    public static final int RECORD_BYTES = 1 + IMAGE_BYTES;
    public static final int CLASSES = 10;

    private CifarReader() {}

    /** Images in CHW order (3072 bytes each) and their labels, from all files in the order given. */
    public record Records(byte[] pixels, int[] labels) {}

    public static Records read(List<Path> files) {
        byte[][] contents = new byte[files.size()][];
        long total = 0;
        for (int f = 0; f < files.size(); f++) {
            Path file = files.get(f);
            byte[] b = IdxReader.readBytes(file); // also accepts a gzipped .bin
            if (b.length == 0 || b.length % RECORD_BYTES != 0) {
                throw new DataException(file + ": truncated file (" + b.length + " bytes is not a whole number of "
                        + RECORD_BYTES + "-byte records)");
            }
            contents[f] = b;
            total += b.length / RECORD_BYTES;
        }
        byte[] pixels = new byte[Math.toIntExact(total * IMAGE_BYTES)];
        int[] labels = new int[(int) total];
        int n = 0;
        for (int f = 0; f < files.size(); f++) {
            byte[] b = contents[f];
            for (int r = 0; r < b.length / RECORD_BYTES; r++, n++) {
                int label = b[r * RECORD_BYTES] & 0xff;
                if (label >= CLASSES) {
                    throw new DataException(files.get(f) + ": label " + label + " of record " + r + " out of range (classes " + CLASSES + ")");
                }
                labels[n] = label;
                // The record's pixel bytes are already CHW (R plane, G plane, B plane, each row-major).
                System.arraycopy(b, r * RECORD_BYTES + 1, pixels, n * IMAGE_BYTES, IMAGE_BYTES);
            }
        }
        return new Records(pixels, labels);
    }
}
