package conta.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * NumPy {@code .npy} files (format versions 1, 2 and 3; little-endian; C order). Writes float32; reads float32,
 * float64, float16, int64, int32, int16, int8, uint8 and bool, converting to float.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Map<String, RawType> TYPES = Map.of(
            "f4", RawType.F32, "f8", RawType.F64, "f2", RawType.F16, "i8", RawType.I64, "i4", RawType.I32,
            "i2", RawType.I16, "i1", RawType.I8, "u1", RawType.U8, "b1", RawType.BOOL);
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() { }

    /** The dtype descriptor of a .npy file ("<f4", "<i8", ...) without reading its data. */
    public static String dtype(Path file) throws IOException {
        byte[] head;
        try (var in = Files.newInputStream(file)) {
            head = in.readNBytes(4096);
        }
        Matcher d = DESCR.matcher(new String(head, StandardCharsets.ISO_8859_1));
        if (head.length < 10 || head[0] != MAGIC[0] || !d.find()) throw bad(file.toString(), "not a .npy file (missing \\x93NUMPY magic)");
        return d.group(1);
    }

    public static HostArray read(Path file) throws IOException {
        return read(Files.readAllBytes(file), file.toString());
    }

    /** Parses the bytes of a .npy file; {@code name} is only used in error messages. */
    public static HostArray read(byte[] bytes, String name) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 10 || !ByteBuffer.wrap(bytes, 0, 6).equals(ByteBuffer.wrap(MAGIC)))
            throw bad(name, "not a .npy file (missing \\x93NUMPY magic)");
        int major = bytes[6];
        int headerLen;
        int start;
        if (major == 1) {
            headerLen = b.getShort(8) & 0xffff;
            start = 10;
        } else if (major == 2 || major == 3) {
            if (bytes.length < 12) throw bad(name, "truncated header (the file is cut short; write it again)");
            headerLen = b.getInt(8);
            start = 12;
        } else throw bad(name, "unsupported .npy format version " + major + " (1, 2 and 3 are known)");
        if (headerLen < 0 || start + (long) headerLen > bytes.length) throw bad(name, "truncated header (the file is cut short; write it again)");
        String header = new String(bytes, start, headerLen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);

        Matcher d = DESCR.matcher(header);
        if (!d.find()) throw bad(name, "header has no simple 'descr' (structured dtypes are not supported): " + header.trim());
        String descr = d.group(1);
        RawType type = descr.length() == 3 ? TYPES.get(descr.substring(1)) : null;
        if (type == null) throw bad(name, "unsupported dtype '" + descr + "'; save as float32 (e.g. a.astype(np.float32))");
        if (descr.charAt(0) == '>' && type.size > 1)
            throw bad(name, "big-endian dtype '" + descr + "'; save with a.astype('<" + descr.substring(1) + "')");
        Matcher f = FORTRAN.matcher(header);
        if (f.find() && f.group(1).equals("True"))
            throw bad(name, "Fortran order is not supported; save np.ascontiguousarray(a) instead");
        Matcher s = SHAPE.matcher(header);
        if (!s.find()) throw bad(name, "header has no 'shape': " + header.trim());
        int[] shape = parseShape(s.group(1), name);

        int n = RawType.numel(shape, name);
        long dataStart = start + (long) headerLen;
        long need = (long) n * type.size;
        if (bytes.length - dataStart < need)
            throw bad(name, "truncated data: shape " + Arrays.toString(shape) + " of " + descr + " needs " + need
                    + " bytes, file has " + (bytes.length - dataStart) + " (the file is cut short; write it again)");
        return new HostArray(shape, type.decode(b, (int) dataStart, n));
    }

    /** A NumPy {@code .npz} archive (compressed or not): entry {@code NAME.npy} becomes {@code NAME}, in archive order. */
    public static LinkedHashMap<String, HostArray> readNpz(Path file) throws IOException {
        LinkedHashMap<String, HostArray> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (var en = zip.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                if (e.isDirectory()) continue;
                String n = e.getName();
                if (!n.endsWith(".npy")) throw bad(file.toString(), "entry '" + n + "' is not a .npy array; not an .npz file");
                try (var in = zip.getInputStream(e)) {
                    out.put(n.substring(0, n.length() - 4), read(in.readAllBytes(), file + "[" + n + "]"));
                }
            }
        } catch (ZipException e) {
            throw bad(file.toString(), "not a valid .npz (zip) file: " + e.getMessage());
        }
        return out;
    }

    private static int[] parseShape(String s, String name) {
        String t = s.trim();
        if (t.isEmpty()) return new int[0];
        String[] parts = t.split(",");
        int count = parts[parts.length - 1].isBlank() ? parts.length - 1 : parts.length;
        int[] shape = new int[count];
        try {
            for (int k = 0; k < count; k++) shape[k] = Math.toIntExact(Long.parseLong(parts[k].trim().replace("L", "")));
        } catch (NumberFormatException | ArithmeticException e) {
            throw bad(name, "bad shape (" + s + ")");
        }
        return shape;
    }

    private static IllegalArgumentException bad(String name, String problem) {
        return new conta.error.FormatError(name + ": " + problem);
    }

    /** Writes a float32 C-order .npy (format 1.0), atomically. */
    public static void write(Path file, HostArray a) throws IOException {
        byte[] bytes = toBytes(a);
        AtomicWrite.write(file, ch -> AtomicWrite.writeFully(ch, ByteBuffer.wrap(bytes)));
    }

    public static byte[] toBytes(HostArray a) {
        StringBuilder shape = new StringBuilder("(");
        for (int k = 0; k < a.shape().length; k++) shape.append(a.shape()[k]).append(a.shape().length == 1 ? "," : k + 1 < a.shape().length ? ", " : "");
        shape.append(")");
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
        int pad = 64 - (10 + dict.length() + 1) % 64; // data starts 64-byte aligned, header ends with \n
        if (pad == 64) pad = 0;
        String header = dict + " ".repeat(pad) + "\n";
        if (header.length() > 65535) throw new IllegalArgumentException("npy: shape too long for a version 1 header");
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + a.data().length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
        b.put(header.getBytes(StandardCharsets.ISO_8859_1));
        b.asFloatBuffer().put(a.data());
        return b.array();
    }

    /** numpy.savez's entry time (zipfile.ZipInfo's default date_time): the DOS epoch, 1980-01-01 00:00. */
    private static final java.time.LocalDateTime NPZ_TIME = java.time.LocalDateTime.of(1980, 1, 1, 0, 0);

    /** Writes float32 arrays as an uncompressed .npz (numpy.savez), atomically. */
    public static void writeNpz(Path file, java.util.Map<String, HostArray> arrays) throws IOException {
        java.io.ByteArrayOutputStream bos = new java.io.ByteArrayOutputStream();
        try (java.util.zip.ZipOutputStream z = new java.util.zip.ZipOutputStream(bos)) {
            for (var e : arrays.entrySet()) {
                byte[] b = toBytes(e.getValue());
                java.util.zip.ZipEntry ze = new java.util.zip.ZipEntry(e.getKey() + ".npy");
                java.util.zip.CRC32 crc = new java.util.zip.CRC32();
                crc.update(b);
                ze.setTimeLocal(NPZ_TIME); // as numpy.savez: equal arrays give equal files, whenever they are written
                ze.setMethod(java.util.zip.ZipEntry.STORED);
                ze.setSize(b.length);
                ze.setCompressedSize(b.length);
                ze.setCrc(crc.getValue());
                z.putNextEntry(ze);
                z.write(b);
                z.closeEntry();
            }
        }
        byte[] all = bos.toByteArray();
        AtomicWrite.write(file, ch -> AtomicWrite.writeFully(ch, ByteBuffer.wrap(all)));
    }
}
