// SafeTensorsTest: the specification of the safetensors reader/writer: round trips, the exact byte
// layout, atomic writes, refusal of damaged files, and a module's state dict through a file.
package org.bnnas.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bnnas.engine.nn.BatchNorm2d;
import org.bnnas.engine.nn.Conv2d;
import org.bnnas.engine.nn.Sequential;
import org.bnnas.engine.tensor.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir
    Path dir;

    private static float[] values(int n, long seed) {
        Rng rng = new Rng(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = rng.nextFloat() * 2 - 1;
        return v;
    }

    @Test
    void roundTripOfEveryRankAndI64WithMetadata() throws IOException {
        Map<String, TensorData> in = new LinkedHashMap<>();
        in.put("rank0", TensorData.f32(new int[0], new float[] {3.5f}));
        in.put("rank1", TensorData.f32(new int[] {5}, new float[] {-0f, Float.NaN, Float.POSITIVE_INFINITY, Float.MIN_VALUE, -1e30f}));
        in.put("rank2", TensorData.f32(new int[] {2, 3}, values(6, 1)));
        in.put("rank3", TensorData.f32(new int[] {2, 1, 3}, values(6, 2)));
        in.put("rank4", TensorData.f32(new int[] {2, 3, 4, 5}, values(120, 3)));
        in.put("empty", TensorData.f32(new int[] {0, 3}, new float[0]));
        in.put("count", TensorData.i64Scalar(Long.MIN_VALUE + 12345));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("note", "quote \" backslash \\ newline \n tab \t ctrl \u0001 unicode \u00e9\u2713");

        Path file = dir.resolve("model.safetensors");
        SafeTensors.write(file, in, meta);
        SafeTensors.Loaded out = SafeTensors.read(file);

        assertEquals(in, out.tensors());
        assertEquals(new ArrayList<>(in.keySet()), new ArrayList<>(out.tensors().keySet()), "file order is write order");
        assertEquals(meta, out.metadata());
        // The bits of -0.0 and NaN survive (TensorData.equals compares bit patterns; check one anyway).
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(out.tensors().get("rank1").floats()[0]));
    }

    @Test
    void tensorsLargerThanTheCopyBufferRoundTrip() throws IOException {
        long[] longs = new long[200_003]; // 1.6 MB, several passes through the 1 MiB buffer
        for (int i = 0; i < longs.length; i++) longs[i] = (long) i * 0x9E3779B97F4A7C15L;
        Map<String, TensorData> in = new LinkedHashMap<>();
        in.put("big", TensorData.f32(new int[] {3, 100_001}, values(300_003, 4)));
        in.put("ids", TensorData.i64(new int[] {longs.length}, longs));
        Path file = dir.resolve("big.safetensors");
        SafeTensors.write(file, in, null);
        assertEquals(in, SafeTensors.read(file).tensors());
    }

    @Test
    void noMetadataReadsAsEmpty() throws IOException {
        Path file = dir.resolve("a.safetensors");
        SafeTensors.write(file, Map.of("x", TensorData.f32(new int[] {1}, new float[] {1f})), null);
        assertEquals(Map.of(), SafeTensors.read(file).metadata());
    }

    @Test
    void byteLayoutOfAHandwrittenExample() throws IOException {
        Map<String, TensorData> in = new LinkedHashMap<>();
        in.put("a", TensorData.f32(new int[] {2}, new float[] {1f, -2f}));
        in.put("n", TensorData.i64Scalar(7));
        Path file = dir.resolve("tiny.safetensors");
        SafeTensors.write(file, in, Map.of("k", "v"));

        String json = "{\"__metadata__\":{\"k\":\"v\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[8,16]}}";
        assertEquals(132, json.length());
        String padded = json + "    "; // padded with spaces to 136 = 17 * 8
        byte[] expected = concat(
                new byte[] {(byte) 136, 0, 0, 0, 0, 0, 0, 0}, // header length, little-endian u64
                padded.getBytes(StandardCharsets.US_ASCII),
                new byte[] {0, 0, (byte) 0x80, 0x3f}, // 1.0f
                new byte[] {0, 0, 0, (byte) 0xc0}, // -2.0f
                new byte[] {7, 0, 0, 0, 0, 0, 0, 0}); // 7L
        assertArrayEquals(expected, Files.readAllBytes(file));
    }

    @Test
    void readsAFileWithoutPaddingOrMetadataAsOtherWritersMayProduce() throws IOException {
        Path file = craft("plain.safetensors", "{\"x\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", longsLE(-1, 2));
        assertEquals(Map.of("x", TensorData.i64(new int[] {2}, new long[] {-1, 2})), SafeTensors.read(file).tensors());
    }

    @Test
    void tensorsComeBackInDataOffsetOrder() throws IOException {
        Path file = craft("order.safetensors",
                "{\"late\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                        + "\"early\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                floatsLE(1f, 2f));
        SafeTensors.Loaded l = SafeTensors.read(file);
        assertEquals(List.of("early", "late"), new ArrayList<>(l.tensors().keySet()));
        assertEquals(2f, l.tensors().get("late").floats()[0]);
    }

    @Test
    void successfulWriteLeavesNoTemporaryFiles() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        SafeTensors.write(file, Map.of("x", TensorData.f32(new int[] {2}, new float[] {1, 2})), null);
        SafeTensors.write(file, Map.of("y", TensorData.f32(new int[] {1}, new float[] {3})), null); // replaces
        assertEquals(List.of(file), listDir());
        assertEquals(Map.of("y", TensorData.f32(new int[] {1}, new float[] {3})), SafeTensors.read(file).tensors());
    }

    @Test
    void failedWriteLeavesTheOldFileIntact() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        SafeTensors.write(file, Map.of("x", TensorData.f32(new int[] {2}, new float[] {1, 2})), Map.of("step", "1"));
        byte[] before = Files.readAllBytes(file);

        Map<String, TensorData> broken = new LinkedHashMap<>();
        broken.put("ok", TensorData.f32(new int[] {1}, new float[] {5}));
        broken.put("missing", null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(file, broken, null));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
        Map<String, TensorData> reserved = new HashMap<>();
        reserved.put("__metadata__", TensorData.i64Scalar(1));
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(file, reserved, null));

        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of(file), listDir());
    }

    // ---- refusals ----------------------------------------------------------------------------

    private static final String ONE_F32 = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

    @Test
    void refusesAMissingFile() {
        Path file = dir.resolve("nothing-here.safetensors");
        IOException e = assertThrows(NoSuchFileException.class, () -> SafeTensors.read(file));
        assertMessage(e, file, "no such file");
    }

    @Test
    void refusesTruncatedData() throws IOException {
        Path file = dir.resolve("trunc.safetensors");
        SafeTensors.write(file, Map.of("x", TensorData.f32(new int[] {4}, values(4, 9))), null);
        byte[] all = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(all, all.length - 3));
        assertRefused(file, "truncated");
    }

    @Test
    void refusesAFileShorterThanTheLengthField() throws IOException {
        Path file = dir.resolve("short.safetensors");
        Files.write(file, new byte[] {1, 2, 3});
        assertRefused(file, "shorter than");
    }

    @Test
    void refusesAHeaderLengthLargerThanTheFile() throws IOException {
        Path file = craft("len.safetensors", ONE_F32, floatsLE(1, 2));
        byte[] all = Files.readAllBytes(file);
        ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).putLong(0, all.length); // 8 bytes too many
        Files.write(file, all);
        assertRefused(file, "header length");
        ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L); // 2^64 - 1 as unsigned
        Files.write(file, all);
        assertRefused(file, "header length 18446744073709551615");
    }

    @Test
    void refusesCorruptJson() throws IOException {
        assertRefused(craft("cut.safetensors", "{\"x\":{\"dtype\":", new byte[0]), "not valid JSON");
        assertRefused(craft("comma.safetensors", ONE_F32.replace("]}}", "],}}"), floatsLE(1, 2)), "not valid JSON");
        assertRefused(craft("float.safetensors", ONE_F32.replace("[0,8]", "[0,8.0]"), floatsLE(1, 2)), "only integers");
        assertRefused(craft("dup.safetensors", "{\"a\":{},\"a\":{}}", new byte[0]), "duplicate key");
        assertRefused(craft("array.safetensors", "[1,2]", new byte[0]), "not a JSON object");
        assertRefused(craft("meta.safetensors", "{\"__metadata__\":{\"k\":1}}", new byte[0]), "not a string");
    }

    @Test
    void refusesAnUnknownDtype() throws IOException {
        assertRefused(craft("dtype.safetensors", ONE_F32.replace("F32", "Q7"), floatsLE(1, 2)), "dtype \"Q7\"");
    }

    @Test
    void refusesOffsetsInconsistentWithTheShape() throws IOException {
        assertRefused(craft("shape.safetensors", ONE_F32.replace("[2]", "[3]"), floatsLE(1, 2)), "needs 12");
    }

    @Test
    void refusesGapsOverlapsAndTrailingBytes() throws IOException {
        String two = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[B,E]}}";
        assertRefused(craft("gap.safetensors", two.replace("B", "8").replace("E", "12"), floatsLE(1, 2, 3)), "gap");
        assertRefused(craft("overlap.safetensors", two.replace("B", "2").replace("E", "6"), floatsLE(1, 2)), "overlaps");
        assertRefused(craft("trail.safetensors", ONE_F32, floatsLE(1, 2, 3)), "data section is 12 bytes");
    }

    // ---- modules -----------------------------------------------------------------------------

    @Test
    void moduleRoundTripIncludingNumBatchesTracked() throws IOException {
        Path file = dir.resolve("net.safetensors");
        try (Sequential a = new Sequential(new Conv2d(3, 4, 3, 1, 1, 1, new Rng(1)), new BatchNorm2d(4));
                Sequential b = new Sequential(new Conv2d(3, 4, 3, 1, 1, 1, new Rng(2)), new BatchNorm2d(4))) {
            // Move a's batch-norm state away from the defaults so that every entry is checked.
            Map<String, TensorData> state = a.stateDict();
            state.put("1.weight", TensorData.f32(new int[] {4}, values(4, 5)));
            state.put("1.bias", TensorData.f32(new int[] {4}, values(4, 6)));
            state.put("1.running_mean", TensorData.f32(new int[] {4}, values(4, 7)));
            state.put("1.running_var", TensorData.f32(new int[] {4}, new float[] {0.5f, 1.5f, 2f, 3f}));
            state.put("1.num_batches_tracked", TensorData.i64Scalar(42));
            a.loadStateDict(state, true);
            assertNotEquals(a.stateDict(), b.stateDict());

            SafeTensors.write(file, a.stateDict(), null);
            SafeTensors.Loaded loaded = SafeTensors.read(file);
            assertEquals(TensorData.DType.I64, loaded.tensors().get("1.num_batches_tracked").dtype());
            assertEquals(Map.of(), loaded.metadata());
            b.loadStateDict(loaded.tensors(), true);

            assertEquals(a.stateDict(), b.stateDict());
            assertEquals(new ArrayList<>(a.stateDict().keySet()), new ArrayList<>(b.stateDict().keySet()));
            assertEquals(42, ((BatchNorm2d) b.get(1)).numBatchesTracked());
        }
    }

    @Test
    void aFileThatDoesNotFitTheModuleIsRefusedBeforeAnythingIsLoaded() throws IOException {
        Path file = dir.resolve("other.safetensors");
        Map<String, TensorData> other = new LinkedHashMap<>();
        other.put("weight", TensorData.f32(new int[] {2}, new float[] {5, 6}));
        other.put("x", TensorData.f32(new int[] {1}, new float[] {1}));
        SafeTensors.write(file, other, null);
        try (BatchNorm2d bn = new BatchNorm2d(2)) {
            Map<String, TensorData> before = bn.stateDict();
            Map<String, TensorData> tensors = SafeTensors.read(file).tensors();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bn.loadStateDict(tensors, true));
            assertEquals("loadStateDict: missing key bias", e.getMessage());
            assertEquals(before, bn.stateDict(), "the weight that did fit was not loaded either");
        }
    }

    // ---- helpers -----------------------------------------------------------------------------

    /** A file with the given header text (unpadded) and data bytes, built without SafeTensors. */
    private Path craft(String name, String json, byte[] data) throws IOException {
        byte[] head = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + head.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(head.length).put(head).put(data);
        Path file = dir.resolve(name);
        Files.write(file, b.array());
        return file;
    }

    private static byte[] floatsLE(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    private static byte[] longsLE(long... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(v);
        return b.array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteBuffer b = ByteBuffer.allocate(Arrays.stream(parts).mapToInt(p -> p.length).sum());
        for (byte[] p : parts) b.put(p);
        return b.array();
    }

    private List<Path> listDir() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    private interface Action {
        void run() throws IOException;
    }

    private static void assertRefused(Path file, String problem) {
        assertRefused(() -> SafeTensors.read(file), file, problem);
    }

    private static void assertRefused(Action action, Path file, String problem) {
        IOException e = assertThrows(IOException.class, action::run);
        assertMessage(e, file, problem);
    }

    /** The message is one line naming the file and the problem. */
    private static void assertMessage(IOException e, Path file, String problem) {
        String m = e.getMessage();
        assertTrue(m.contains(file.getFileName().toString()), m);
        assertTrue(m.contains(problem), m);
        assertFalse(m.contains("\n"), m);
    }
}
