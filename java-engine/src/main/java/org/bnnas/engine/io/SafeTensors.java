// SafeTensors: reads and writes state dicts in the safetensors format (8-byte little-endian header
// length, JSON header, raw little-endian data), with atomic writes and strict validation on read.
package org.bnnas.engine.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The safetensors file format, for F32 and I64 tensors.
 *
 * <p>Layout: an unsigned little-endian 64-bit header length N; N bytes of UTF-8 JSON mapping each
 * tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (offsets relative to the
 * data section), plus an optional {@code "__metadata__"} object of strings; then the data, tensor
 * after tensor with no gaps. The header is padded with spaces to a multiple of 8 bytes so the data
 * starts aligned.
 *
 * <p>Every problem with a file is reported as an {@link IOException} whose one-line message starts
 * with the file's path and says what is wrong.
 */
public final class SafeTensors {
    private SafeTensors() {}

    /** The contents of a file: tensors in the order of their data offsets, and the metadata (never null). */
    public record Loaded(LinkedHashMap<String, TensorData> tensors, Map<String, String> metadata) {}

    private static final String METADATA = "__metadata__";
    /** Same bound as the reference Rust implementation: a larger header means a corrupt length field. */
    private static final long MAX_HEADER = 100_000_000L;
    /** Data moves through a buffer of this size, so memory stays bounded whatever the tensor size. */
    private static final int CHUNK = 1 << 20;

    // ---- writing -----------------------------------------------------------------------------

    /**
     * Writes {@code tensors} in map order, with {@code metadata} (null or empty for none). The file
     * appears at {@code file} complete or not at all: the bytes go to a temporary file in the same
     * directory, are flushed to disk, and the temporary file is then renamed over the destination.
     *
     * @throws IllegalArgumentException for a null or reserved name, a null tensor, or null metadata
     */
    public static void write(Path file, Map<String, TensorData> tensors, Map<String, String> metadata) throws IOException {
        Objects.requireNonNull(tensors, "tensors");
        file = file.toAbsolutePath();
        // Everything is checked while building the header, before any file is created.
        List<TensorData> order = new ArrayList<>(tensors.size());
        byte[] header = header(file, tensors, metadata, order);

        Path dir = file.getParent();
        Path tmp = dir.resolve(file.getFileName() + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer head = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
                head.putLong(header.length).put(header).flip();
                writeFully(ch, head);
                writeData(ch, order);
                ch.force(true); // the data must be on disk before the rename makes it visible
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (Throwable t) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                t.addSuppressed(e);
            }
            // The system's message ("No space left on device") does not say which file: this one does.
            if (t instanceof IOException io) throw new IOException(file + ": cannot write (" + io.getMessage() + "), so it was left as it was", io);
            throw t;
        }
        syncDirectory(dir);
    }

    /** The padded JSON header; fills {@code order} with the tensors in the order their data follows. */
    private static byte[] header(Path file, Map<String, TensorData> tensors, Map<String, String> metadata, List<TensorData> order) {
        StringBuilder json = new StringBuilder("{");
        if (metadata != null && !metadata.isEmpty()) {
            json.append(Json.quote(METADATA)).append(":{");
            String sep = "";
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new IllegalArgumentException(file + ": null metadata key or value for key " + e.getKey());
                }
                json.append(sep).append(Json.quote(e.getKey())).append(':').append(Json.quote(e.getValue()));
                sep = ",";
            }
            json.append('}');
        }
        long offset = 0;
        for (Map.Entry<String, TensorData> e : tensors.entrySet()) {
            String name = e.getKey();
            TensorData d = e.getValue();
            if (name == null || name.equals(METADATA)) throw new IllegalArgumentException(file + ": invalid tensor name " + name);
            if (d == null) throw new IllegalArgumentException(file + ": tensor " + Json.quote(name) + " is null");
            long bytes = byteSize(d);
            if (json.length() > 1) json.append(',');
            json.append(Json.quote(name)).append(":{\"dtype\":\"").append(d.dtype()).append("\",\"shape\":")
                    .append(Arrays.toString(d.shape()).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
            order.add(d);
        }
        json.append('}');
        byte[] raw = json.toString().getBytes(StandardCharsets.UTF_8);
        byte[] padded = Arrays.copyOf(raw, (raw.length + 7) / 8 * 8);
        Arrays.fill(padded, raw.length, padded.length, (byte) ' ');
        return padded;
    }

    private static long byteSize(TensorData d) {
        return d.dtype() == TensorData.DType.F32 ? 4L * d.floats().length : 8L * d.longs().length;
    }

    private static void writeData(FileChannel ch, List<TensorData> order) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        for (TensorData d : order) {
            boolean f32 = d.dtype() == TensorData.DType.F32;
            int n = f32 ? d.floats().length : d.longs().length;
            int per = CHUNK / (f32 ? 4 : 8);
            for (int off = 0; off < n; off += per) {
                int cnt = Math.min(per, n - off);
                buf.clear();
                if (f32) buf.asFloatBuffer().put(d.floats(), off, cnt);
                else buf.asLongBuffer().put(d.longs(), off, cnt);
                buf.limit(cnt * (f32 ? 4 : 8));
                writeFully(ch, buf);
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    /** Makes the rename itself durable. Not every platform can open a directory, so this is best effort. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // the file is complete either way; only durability across a power cut is at stake
        }
    }

    // ---- reading -----------------------------------------------------------------------------

    /** Reads and validates a whole file. */
    public static Loaded read(Path file) throws IOException {
        if (!Files.exists(file)) throw new NoSuchFileException(file.toString(), null, "no such file");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw bad(file, "file is " + size + " bytes, shorter than the 8-byte header length");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(file, ch, lenBuf, 0);
            long n = lenBuf.getLong(0); // negative here means above 2^63 as unsigned: too large too
            if (n < 0 || n > size - 8) {
                throw bad(file, "header length " + Long.toUnsignedString(n) + " is larger than the file (" + size + " bytes)");
            }
            if (n > MAX_HEADER) throw bad(file, "header length " + n + " exceeds the limit of " + MAX_HEADER + " bytes");
            ByteBuffer headBuf = ByteBuffer.allocate((int) n);
            readFully(file, ch, headBuf, 8);
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(headBuf.flip()).toString();
            } catch (CharacterCodingException e) {
                throw bad(file, "header is not valid UTF-8");
            }
            // No check that n is a multiple of 8: the padding only aligns data, and other writers skip it.
            Object json;
            try {
                json = Json.parse(text);
            } catch (IllegalArgumentException e) {
                throw bad(file, "header is not valid JSON: " + e.getMessage());
            }
            if (!(json instanceof Map<?, ?> top)) throw bad(file, "header is not a JSON object");

            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = new ArrayList<>();
            for (Map.Entry<?, ?> e : top.entrySet()) {
                String name = (String) e.getKey();
                if (name.equals(METADATA)) metadata = metadata(file, e.getValue());
                else entries.add(entry(file, name, e.getValue()));
            }

            // Sorting by (begin, end) puts empty tensors before a tensor starting at the same offset.
            entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
            long covered = 0;
            for (Entry e : entries) {
                if (e.begin > covered) throw bad(file, "gap in the data before tensor " + Json.quote(e.name) + " at offset " + e.begin);
                if (e.begin < covered) throw bad(file, "tensor " + Json.quote(e.name) + " at offset " + e.begin + " overlaps the previous tensor");
                covered = e.end;
            }
            long dataLen = size - 8 - n;
            if (covered > dataLen) throw bad(file, "truncated file: tensors need " + covered + " data bytes, only " + dataLen + " present");
            if (covered < dataLen) throw bad(file, "data section is " + dataLen + " bytes but the tensors cover " + covered);

            LinkedHashMap<String, TensorData> tensors = new LinkedHashMap<>();
            ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            for (Entry e : entries) tensors.put(e.name, readTensor(file, ch, buf, 8 + n + e.begin, e));
            return new Loaded(tensors, Collections.unmodifiableMap(metadata));
        }
    }

    /** One validated header entry. */
    private record Entry(String name, TensorData.DType dtype, int[] shape, int numel, long begin, long end) {}

    private static Entry entry(Path file, String name, Object value) throws IOException {
        String what = "tensor " + Json.quote(name);
        if (!(value instanceof Map<?, ?> m)) throw bad(file, what + " is not a JSON object");
        for (Object k : m.keySet()) {
            if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets")) throw bad(file, what + " has unknown field " + Json.quote((String) k));
        }
        if (!(m.get("dtype") instanceof String dt)) throw bad(file, what + " has no dtype string");
        TensorData.DType dtype = switch (dt) {
            case "F32" -> TensorData.DType.F32;
            case "I64" -> TensorData.DType.I64;
            default -> throw bad(file, what + " has unknown or unsupported dtype " + Json.quote(dt));
        };
        long[] dims = longs(file, what, "shape", m.get("shape"), -1);
        long[] offs = longs(file, what, "data_offsets", m.get("data_offsets"), 2);
        int[] shape = new int[dims.length];
        long numel = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0 || dims[i] > Integer.MAX_VALUE) throw bad(file, what + " has invalid shape " + Arrays.toString(dims));
            shape[i] = (int) dims[i];
            numel *= dims[i];
            // Java arrays hold at most about 2^31 elements, which also keeps numel * 8 far from overflow.
            if (numel > Integer.MAX_VALUE - 8) throw bad(file, what + " with shape " + Arrays.toString(dims) + " is too large");
        }
        long begin = offs[0], end = offs[1];
        if (begin < 0 || end < begin) throw bad(file, what + " has invalid data_offsets [" + begin + "," + end + "]");
        long bytes = numel * (dtype == TensorData.DType.F32 ? 4 : 8);
        if (end - begin != bytes) {
            throw bad(file, what + ": data_offsets [" + begin + "," + end + "] span " + (end - begin) + " bytes but "
                    + dtype + " shape " + Arrays.toString(dims) + " needs " + bytes);
        }
        return new Entry(name, dtype, shape, (int) numel, begin, end);
    }

    /** A JSON array of integers; {@code count} < 0 accepts any length. */
    private static long[] longs(Path file, String what, String field, Object value, int count) throws IOException {
        if (!(value instanceof List<?> list) || (count >= 0 && list.size() != count)) {
            throw bad(file, what + " has no valid " + field + " array");
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long v)) throw bad(file, what + " has a non-integer in " + field);
            out[i] = v;
        }
        return out;
    }

    private static Map<String, String> metadata(Path file, Object value) throws IOException {
        if (!(value instanceof Map<?, ?> m)) throw bad(file, "__metadata__ is not a JSON object");
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) throw bad(file, "__metadata__ value for " + Json.quote((String) e.getKey()) + " is not a string");
            out.put((String) e.getKey(), s);
        }
        return out;
    }

    private static TensorData readTensor(Path file, FileChannel ch, ByteBuffer buf, long pos, Entry e) throws IOException {
        boolean f32 = e.dtype == TensorData.DType.F32;
        float[] fs = f32 ? new float[e.numel] : null;
        long[] ls = f32 ? null : new long[e.numel];
        int item = f32 ? 4 : 8, per = CHUNK / item;
        for (int off = 0; off < e.numel; off += per) {
            int cnt = Math.min(per, e.numel - off);
            buf.clear().limit(cnt * item);
            readFully(file, ch, buf, pos + (long) off * item);
            buf.flip();
            if (f32) buf.asFloatBuffer().get(fs, off, cnt);
            else buf.asLongBuffer().get(ls, off, cnt);
        }
        return f32 ? TensorData.f32(e.shape, fs) : TensorData.i64(e.shape, ls);
    }

    private static void readFully(Path file, FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) throw bad(file, "truncated file: unexpected end at byte " + pos); // shrank while reading
            pos += r;
        }
    }

    private static IOException bad(Path file, String problem) {
        return new IOException(file + ": " + problem);
    }
}
