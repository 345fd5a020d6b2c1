// ImageDecoderTest: which decoder a JPEG takes does not change its pixels, and a truncated JPEG is
// refused as PIL refuses it (the decoders themselves fill the missing rows with gray).
package org.bnnas.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDecoderTest {
    @TempDir
    Path dir;

    @Test
    void aJpegWithBytesAfterItsEndDecodesAsTheWholeFileDoes() throws Exception {
        Path whole = dir.resolve("whole.jpg"), trailing = dir.resolve("trailing.jpg");
        TestFiles.jpeg(whole, 61, 47, 3);
        byte[] bytes = Files.readAllBytes(whole);
        assertEquals(3, ImageDecoder.jpegComponents(bytes));
        assertTrue(ImageDecoder.endsWithEndOfImage(bytes), "a whole file goes to OpenCV");
        byte[] padded = Arrays.copyOf(bytes, bytes.length + 5);
        Files.write(trailing, padded);
        assertTrue(!ImageDecoder.endsWithEndOfImage(padded), "one with bytes after its end goes to the JDK's reader");
        ImageTransforms.Image a = ImageDecoder.decode(whole), b = ImageDecoder.decode(trailing);
        assertEquals(61, a.width());
        assertEquals(47, a.height());
        assertArrayEquals(a.rgb(), b.rgb());
    }

    @Test
    void aTruncatedJpegIsRefusedWithItsName() throws Exception {
        Path whole = dir.resolve("whole.jpg"), cut = dir.resolve("cut.jpg");
        TestFiles.jpeg(whole, 120, 90, 5);
        byte[] bytes = Files.readAllBytes(whole);
        Files.write(cut, Arrays.copyOf(bytes, bytes.length * 2 / 3));
        DataException e = assertThrows(DataException.class, () -> ImageDecoder.decode(cut));
        assertTrue(e.getMessage().startsWith(cut + ": truncated"), e.getMessage());
    }

    @Test
    void componentsAreReadFromTheFrameHeaderPastOtherSegments() {
        // SOI, an APP1 segment of 6 bytes, SOF0 (length 11: precision 8, 2x2, 1 component), EOI
        byte[] gray = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xE1, 0, 6, 1, 2, 3, 4, (byte) 0xFF, (byte) 0xC0, 0, 11, 8, 0, 2, 0, 2, 1, 1, 0x11, 0,
                (byte) 0xFF, (byte) 0xD9};
        assertEquals(1, ImageDecoder.jpegComponents(gray));
        assertEquals(0, ImageDecoder.jpegComponents(new byte[] {(byte) 0x89, 'P', 'N', 'G'}), "not a JPEG");
        assertEquals(0, ImageDecoder.jpegComponents(Arrays.copyOf(gray, 8)), "cut before its frame header");
    }
}
