// ImageFolderRunTest: bnnas run on bnnas-imagenet with an image folder, end to end, on a few
// classes of small generated JPEGs; a broken image stops a run with its name, or is skipped and
// counted with --skip-bad-images; a bad folder is one line before any training.
package org.bnnas.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.bnnas.data.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderRunTest {
    @TempDir
    Path dir;

    record Result(int code, String out, String err) {}

    static Result bnnas(Object... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), Stream.of(args).map(Object::toString).toArray(String[]::new));
        return new Result(code, out.toString(), err.toString());
    }

    static Object[] run(Path data, Path out, Object... more) {
        Object[] base = {"run", "--space", "bnnas-imagenet", "--data", "imagefolder", "--data-dir", data, "--validation-size", 3, "--supernet-epochs", 1,
                "--batch-size", 4, "--population", 4, "--generations", 1, "--retrain-epochs", 1, "--retrain-batch-size", 4, "--out", out};
        Object[] all = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }

    static String errorLine(Result r) {
        return r.err().lines().filter(l -> !l.startsWith(CommonOptions.DEVICE_NOTE + "running on the CPU")).collect(Collectors.joining("\n")).strip();
    }

    @Test
    void bnnasRunTrainsSearchesAndRetrainsOnAnImageFolder() throws IOException {
        Path data = TestFiles.imageFolder(dir.resolve("images"), 3, 4);
        Result r = bnnas(run(data, dir.resolve("run")));
        assertEquals(0, r.code(), r.err());
        var results = JsonParser.parseString(Files.readString(dir.resolve("run/results.json"))).getAsJsonObject();
        assertTrue(results.get("test_top1").getAsDouble() >= 0, results.toString());
        assertTrue(r.out().contains("test top-1"), r.out());
    }

    @Test
    void aBrokenImageStopsTheRunUnlessSkipped() throws IOException {
        Path data = TestFiles.imageFolder(dir.resolve("images"), 2, 4);
        Path broken = data.resolve("train/class0/img2.JPEG");
        Files.write(broken, new byte[] {(byte) 0xff, (byte) 0xd8, 0, 1, 2, 3});
        Result r = bnnas(run(data, dir.resolve("stopped")));
        assertEquals(2, r.code(), r.err());
        assertFalse(errorLine(r).contains("\n"), errorLine(r));
        assertTrue(errorLine(r).contains(broken + ": ") && errorLine(r).contains("--skip-bad-images skips such files"), errorLine(r));
        Result skipped = bnnas(run(data, dir.resolve("skipped"), "--skip-bad-images"));
        assertEquals(0, skipped.code(), skipped.err());
        assertTrue(skipped.err().contains("bnnas: skipping " + broken + ": "), skipped.err());
        assertTrue(skipped.err().contains("bnnas: 1 image file could not be decoded and was skipped (--skip-bad-images)"), skipped.err());
    }

    @Test
    void aBadFolderIsOneLineBeforeAnyTraining() throws IOException {
        Path data = TestFiles.imageFolder(dir.resolve("images"), 2, 2);
        Files.createDirectories(data.resolve("train/class9"));
        Result r = bnnas(run(data, dir.resolve("none")));
        assertEquals(2, r.code());
        assertTrue(errorLine(r).equals("bnnas run: " + data.resolve("train/class9") + ": a class folder without images (.jpg, .jpeg, .png, .ppm, .bmp, "
                + ".pgm, .tif, .tiff, .webp)"), errorLine(r));
        assertFalse(Files.exists(dir.resolve("none")), "no run directory for a run that could not start");
        Result wrong = bnnas("train-supernet", "--data-dir", data, "--skip-bad-images");
        assertEquals(2, wrong.code());
        assertTrue(errorLine(wrong).endsWith("--skip-bad-images goes with --data imagefolder"), errorLine(wrong));
    }
}
