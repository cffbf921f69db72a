package conta.eval;

import conta.io.HostArray;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Minimal .npy (format 1.0/2.0) reader/writer for little-endian float32 C-order arrays only; to be replaced by conta.io.Npy. */
final class NpyMini {
    private NpyMini() { }

    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    static HostArray read(Path f) throws IOException {
        byte[] b = Files.readAllBytes(f);
        if (b.length < 10 || (b[0] & 0xFF) != 0x93 || b[1] != 'N' || b[2] != 'U' || b[3] != 'M' || b[4] != 'P' || b[5] != 'Y')
            throw new IOException(f + " is not a .npy file");
        int major = b[6];
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int hlen, start;
        if (major == 1) { hlen = bb.getShort(8) & 0xFFFF; start = 10; } else { hlen = bb.getInt(8); start = 12; }
        String header = new String(b, start, hlen, StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header), fo = FORTRAN.matcher(header), sh = SHAPE.matcher(header);
        if (!d.find() || !fo.find() || !sh.find()) throw new IOException(f + ": unreadable .npy header " + header.strip());
        if (!d.group(1).equals("<f4") && !d.group(1).equals("f4"))
            throw new IOException(f + " holds dtype " + d.group(1) + "; save CAMs as float32 (numpy: arr.astype(np.float32))");
        if (fo.group(1).equals("True")) throw new IOException(f + " is Fortran-ordered; save it C-ordered (np.ascontiguousarray)");
        String[] parts = sh.group(1).split(",");
        int n = 0;
        int[] shape = new int[parts.length];
        for (String p : parts) if (!p.isBlank()) shape[n++] = Integer.parseInt(p.strip());
        shape = java.util.Arrays.copyOf(shape, n);
        long count = 1;
        for (int s : shape) count *= s;
        int data = start + hlen;
        if (b.length - data < count * 4) throw new IOException(f + " is truncated: " + (b.length - data) + " bytes of data for shape " + java.util.Arrays.toString(shape));
        float[] v = new float[(int) count];
        bb.position(data);
        bb.asFloatBuffer().get(v);
        return new HostArray(shape, v);
    }

    static void write(Path f, HostArray a) throws IOException {
        String[] dims = java.util.Arrays.stream(a.shape()).mapToObj(Integer::toString).toArray(String[]::new);
        String s = dims.length == 1 ? "(" + dims[0] + ",)" : "(" + String.join(", ", dims) + ")";
        String h = "{'descr': '<f4', 'fortran_order': False, 'shape': " + s + ", }";
        int total = 10 + h.length() + 1;
        h = h + " ".repeat((64 - total % 64) % 64) + "\n";
        ByteBuffer bb = ByteBuffer.allocate(10 + h.length() + 4 * a.data().length).order(ByteOrder.LITTLE_ENDIAN);
        bb.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        bb.putShort((short) h.length()).put(h.getBytes(StandardCharsets.ISO_8859_1));
        bb.asFloatBuffer().put(a.data());
        Path parent = f.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Files.write(f, bb.array());
    }
}
