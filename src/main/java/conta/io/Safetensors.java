package conta.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face {@code .safetensors}: u64 little-endian header length, a JSON header naming each tensor's dtype,
 * shape and byte range, then the raw data. Reads F32, F16, BF16, F64, I64, I32 (and I16, I8, U8, BOOL) as float;
 * writes F32 atomically.
 */
public final class Safetensors {
    /** Headers beyond this are refused: real ones are kilobytes; a huge value means a corrupt or hostile file. */
    private static final long MAX_HEADER = 100L << 20;

    private Safetensors() { }

    /** Tensors in header order plus the optional {@code __metadata__} string map (empty when absent). */
    public record Contents(LinkedHashMap<String, HostArray> tensors, LinkedHashMap<String, String> metadata) { }

    /** A tensor's header entry, without its data. */
    public record Entry(String name, String dtype, int[] shape, long begin, long end) { }

    public static LinkedHashMap<String, HostArray> read(Path file) throws IOException {
        return readAll(file).tensors();
    }

    public static Contents readAll(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Header h = header(ch, file);
            LinkedHashMap<String, HostArray> out = new LinkedHashMap<>();
            for (Entry e : h.entries) {
                RawType t = RawType.valueOf(e.dtype());
                int n = RawType.numel(e.shape(), file + ": tensor '" + e.name() + "'");
                ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(e.end() - e.begin()));
                readFully(ch, b, h.dataStart + e.begin(), file);
                out.put(e.name(), new HostArray(e.shape(), t.decode(b, 0, n)));
            }
            return new Contents(out, h.metadata);
        }
    }

    /** Header only: names, dtypes, shapes and metadata, without reading tensor data. */
    public static List<Entry> entries(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return header(ch, file).entries;
        }
    }

    public static LinkedHashMap<String, String> metadata(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return header(ch, file).metadata;
        }
    }

    private record Header(List<Entry> entries, LinkedHashMap<String, String> metadata, long dataStart) { }

    private static Header header(FileChannel ch, Path file) throws IOException {
        long size = ch.size();
        if (size < 8) throw bad(file, "file is only " + size + " bytes; not a safetensors file");
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0, file);
        long n = lenBuf.getLong(0);
        // only an impossible length says another kind: a cut-off safetensors file with a header of 640 bytes starts
        // 0x80 0x02 as a pickle does, and is truncated, not "not a conta model" (text, zips and pickles are never plausible)
        String other = n <= 0 || n > MAX_HEADER ? otherKind(lenBuf.array()) : null;
        if (other != null) throw new NotSafetensors(file, other);
        if (n > 0 && n <= MAX_HEADER && n > size - 8)
            throw bad(file, "truncated safetensors file: its header alone should be " + n + " bytes but the file has only " + size
                    + " bytes; download or copy it again");
        if (n <= 0 || n > MAX_HEADER)
            throw bad(file, "header length " + Long.toUnsignedString(n) + " is impossible for a " + size
                    + "-byte file; the file is corrupt or not safetensors");
        ByteBuffer hb = ByteBuffer.allocate((int) n);
        readFully(ch, hb, 8, file);
        Map<String, Object> json;
        try {
            json = Json.parseObject(new String(hb.array(), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw bad(file, "header is not valid JSON (" + e.getMessage() + ")");
        }
        long dataStart = 8 + n, dataLen = size - dataStart;
        LinkedHashMap<String, String> meta = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, Object> kv : json.entrySet()) {
            String name = kv.getKey();
            if (name.equals("__metadata__")) {
                if (!(kv.getValue() instanceof Map<?, ?> m)) throw bad(file, "__metadata__ must be an object of strings");
                for (Map.Entry<?, ?> me : m.entrySet()) {
                    if (!(me.getValue() instanceof String v)) throw bad(file, "__metadata__ value for '" + me.getKey() + "' is not a string");
                    meta.put(String.valueOf(me.getKey()), v);
                }
                continue;
            }
            entries.add(entry(file, name, kv.getValue(), dataLen));
        }
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin));
        for (int k = 1; k < sorted.size(); k++)
            if (sorted.get(k).begin() < sorted.get(k - 1).end())
                throw bad(file, "tensors '" + sorted.get(k - 1).name() + "' and '" + sorted.get(k).name() + "' overlap");
        return new Header(entries, meta, dataStart);
    }

    private static Entry entry(Path file, String name, Object v, long dataLen) {
        String where = "tensor '" + name + "'";
        if (!(v instanceof Map<?, ?> m)) throw bad(file, where + " header entry is not an object");
        if (!(m.get("dtype") instanceof String dtype)) throw bad(file, where + " has no dtype");
        RawType t;
        try {
            t = switch (dtype) {
                case "F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL" -> RawType.valueOf(dtype);
                default -> throw new IllegalArgumentException();
            };
        } catch (IllegalArgumentException e) {
            throw bad(file, where + " has unsupported dtype " + dtype + " (F32, F16, BF16, F64, I64, I32 are read)");
        }
        int[] shape = ints(file, where + " shape", m.get("shape"));
        long[] offs = longs(file, where + " data_offsets", m.get("data_offsets"));
        if (offs.length != 2) throw bad(file, where + " data_offsets must be [begin, end]");
        long begin = offs[0], end = offs[1];
        if (begin < 0 || end < begin || end > dataLen)
            throw bad(file, where + " data_offsets [" + begin + ", " + end + "] lie outside the " + dataLen + "-byte data section (truncated file?)");
        long numel = RawType.numel(shape, file + ": " + where);
        if (numel * t.size != end - begin)
            throw bad(file, where + " is " + dtype + " " + Arrays.toString(shape) + " = " + numel * t.size
                    + " bytes but its data_offsets span " + (end - begin));
        return new Entry(name, dtype, shape, begin, end);
    }

    private static long[] longs(Path file, String what, Object v) {
        if (!(v instanceof List<?> l)) throw bad(file, what + " is missing or not a list");
        long[] r = new long[l.size()];
        for (int k = 0; k < r.length; k++) {
            if (!(l.get(k) instanceof Long x)) throw bad(file, what + " holds a non-integer " + l.get(k));
            r[k] = x;
        }
        return r;
    }

    private static int[] ints(Path file, String what, Object v) {
        long[] l = longs(file, what, v);
        int[] r = new int[l.length];
        for (int k = 0; k < r.length; k++) {
            if (l[k] < 0 || l[k] > Integer.MAX_VALUE) throw bad(file, what + " has an impossible size " + l[k]);
            r[k] = (int) l[k];
        }
        return r;
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos, Path file) throws IOException {
        while (b.hasRemaining()) {
            int r = ch.read(b, pos + b.position());
            if (r < 0) throw bad(file, "unexpected end of file");
        }
        b.flip();
    }

    /** A file that is plainly another kind (text, a zip, a pickle, an image), not a damaged safetensors: "no copy helps". */
    public static final class NotSafetensors extends conta.error.FormatError {
        public final String kind;

        NotSafetensors(Path file, String kind) {
            super(file + ": not a safetensors file (it is " + kind + ")");
            this.kind = kind;
        }
    }

    /**
     * What the first 8 bytes say a file is, where they say it plainly, else null. A safetensors header length is a
     * small little-endian number, so its high bytes are zero: text, "PK\3\4" (zip: PyTorch's own format), a pickle's
     * 0x80 opcode and the JPEG and PNG signatures never are.
     */
    static String otherKind(byte[] head) {
        if (head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return "a zip archive, as PyTorch's torch.save writes";
        if ((head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5) return "a Python pickle, as older PyTorch checkpoints are";
        if ((head[0] & 0xff) == 0xFF && (head[1] & 0xff) == 0xD8 && (head[2] & 0xff) == 0xFF) return "a JPEG image"; // SOI + a marker
        if ((head[0] & 0xff) == 0x89 && head[1] == 'P' && head[2] == 'N' && head[3] == 'G') return "a PNG image";
        StringBuilder text = new StringBuilder();
        for (byte b : head) {
            if (b == '\n' || b == '\r' || b == '\t') text.append(' ');
            else if (b >= 0x20 && b < 0x7f) text.append((char) b);
            else return null;
        }
        return "text, beginning \"" + text + "\"";
    }

    private static IllegalArgumentException bad(Path file, String problem) {
        return new conta.error.FormatError(file + ": " + problem);
    }

    public static void write(Path file, Map<String, HostArray> tensors) throws IOException {
        write(file, tensors, Map.of());
    }

    /** Writes all tensors as F32 in map order with an optional {@code __metadata__}; atomic (tmp + fsync + rename). */
    public static void write(Path file, Map<String, HostArray> tensors, Map<String, String> metadata) throws IOException {
        LinkedHashMap<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) header.put("__metadata__", new LinkedHashMap<>(metadata));
        long off = 0;
        for (Map.Entry<String, HostArray> e : tensors.entrySet()) {
            if (e.getKey().equals("__metadata__")) throw new IllegalArgumentException(file + ": '__metadata__' cannot be a tensor name");
            LinkedHashMap<String, Object> m = new LinkedHashMap<>();
            m.put("dtype", "F32");
            m.put("shape", e.getValue().shape());
            long len = 4L * e.getValue().data().length;
            m.put("data_offsets", List.of(off, off + len));
            header.put(e.getKey(), m);
            off += len;
        }
        byte[] h = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8; // keeps tensor data 8-byte aligned, as the reference writer does
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(h);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();
        AtomicWrite.write(file, ch -> {
            AtomicWrite.writeFully(ch, head);
            ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (HostArray a : tensors.values()) {
                float[] d = a.data();
                for (int k = 0; k < d.length; ) {
                    int n = Math.min(d.length - k, chunk.capacity() / 4);
                    chunk.clear();
                    chunk.asFloatBuffer().put(d, k, n);
                    chunk.limit(n * 4);
                    AtomicWrite.writeFully(ch, chunk);
                    k += n;
                }
            }
        });
    }
}
