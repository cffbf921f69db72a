package conta.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.zip.ZipFile;

/** Loads named weights from any supported file, chosen by extension and checked by magic bytes. */
public final class WeightFiles {
    private WeightFiles() { }

    public static final String SUPPORTED = "PyTorch .pth/.pt (torch.save, zip or legacy), .safetensors, "
            + "TensorFlow.js model.json, NumPy .npz/.npy";

    /** Names and float arrays in file order. Throws IllegalArgumentException naming the file for unknown formats. */
    public static LinkedHashMap<String, HostArray> load(Path file) throws IOException {
        if (Files.isDirectory(file) && Files.isRegularFile(file.resolve("model.json"))) file = file.resolve("model.json");
        if (Files.isDirectory(file)) throw new conta.error.FormatError(file + " is a folder; give a weights file (.pth, .safetensors, .npz, .npy)");
        if (!Files.isRegularFile(file)) throw new conta.error.FormatError(file + " does not exist; check the path");
        return switch (kind(file)) {
            case PTH -> Pth.load(file);
            case SAFETENSORS -> Safetensors.read(file);
            case TFJS -> Tfjs.load(file);
            case NPZ -> Npy.readNpz(file);
            case NPY -> {
                LinkedHashMap<String, HostArray> m = new LinkedHashMap<>();
                String n = file.getFileName().toString();
                m.put(n.endsWith(".npy") ? n.substring(0, n.length() - 4) : n, Npy.read(file));
                yield m;
            }
        };
    }

    public enum Kind { PTH, SAFETENSORS, TFJS, NPZ, NPY }

    /** The format of a file from its first bytes (the extension only breaks ties between zip kinds). */
    public static Kind kind(Path file) throws IOException {
        byte[] h = new byte[16];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(h, 0, h.length);
        }
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n >= 4 && h[0] == 'P' && h[1] == 'K' && h[2] == 3 && h[3] == 4) return isNpz(file) ? Kind.NPZ : Kind.PTH;
        if (n >= 6 && (h[0] & 0xff) == 0x93 && h[1] == 'N' && h[2] == 'U' && h[3] == 'M' && h[4] == 'P' && h[5] == 'Y') return Kind.NPY;
        if (n >= 2 && (h[0] & 0xff) == 0x80 && h[1] >= 2 && h[1] <= 5) return Kind.PTH; // pickle PROTO: legacy torch.save
        if (n >= 9 && h[8] == '{') {
            long len = ByteBuffer.wrap(h, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            // a header longer than the file is a truncated safetensors: Safetensors names the truncation
            if (len > 0 && len < Files.size(file) || name.endsWith(".safetensors")) return Kind.SAFETENSORS;
        }
        if (name.endsWith(".safetensors")) return Kind.SAFETENSORS; // lets Safetensors explain what is wrong
        int k = 0;
        while (k < n && Character.isWhitespace(h[k])) k++;
        if (k < n && (h[k] == '{' || h[k] == '[') && name.endsWith(".json")) return Kind.TFJS;
        if (name.endsWith(".pth") || name.endsWith(".pt")) return Kind.PTH; // lets Pth explain what is wrong
        throw new conta.error.FormatError(file + ": unknown weight file format; supported: " + SUPPORTED);
    }

    private static boolean isNpz(Path file) throws IOException {
        try (ZipFile z = new ZipFile(file.toFile())) {
            var en = z.entries();
            if (!en.hasMoreElements()) return false;
            while (en.hasMoreElements()) if (!en.nextElement().getName().endsWith(".npy")) return false;
            return true;
        } catch (java.util.zip.ZipException e) {
            throw new IllegalArgumentException(file + ": corrupt zip archive (" + e.getMessage() + ")");
        }
    }
}
