package conta.io;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * A small tar reader (ustar, GNU long names, pax path/size records) for npm tarballs. Extracts regular files and
 * folders only; links and devices are skipped, and entries that would land outside the target folder are refused.
 */
public final class Tar {
    private Tar() { }

    /** Extracts a gzip-compressed tar ({@code .tgz}) into {@code dest} (created if needed). */
    public static void extractTgz(Path tgz, Path dest) throws IOException {
        try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(tgz)), 1 << 16)) {
            extract(in, dest, tgz.toString());
        } catch (java.util.zip.ZipException e) {
            throw new IllegalArgumentException(tgz + ": not a gzip file (" + e.getMessage() + ")");
        }
    }

    /** Extracts an uncompressed tar stream; {@code name} is used in error messages. */
    public static void extract(InputStream in, Path dest, String name) throws IOException {
        Path root = dest.toAbsolutePath().normalize();
        Files.createDirectories(root);
        byte[] h = new byte[512];
        String longName = null, paxPath = null;
        long paxSize = -1;
        while (true) {
            if (in.readNBytes(h, 0, 512) < 512) throw new IllegalArgumentException(name + ": truncated tar archive");
            if (isZero(h)) return; // end-of-archive marker
            if (!checksumOk(h)) throw new IllegalArgumentException(name + ": corrupt tar header (bad checksum); the download may be damaged");
            char type = (char) h[156];
            String path = str(h, 0, 100);
            if (str(h, 257, 5).equals("ustar")) {
                String prefix = str(h, 345, 155);
                if (!prefix.isEmpty()) path = prefix + "/" + path;
            }
            long size = octal(h, 124, 12, name);
            if (type == 'x' || type == 'g' || type == 'L') { // metadata entries describe the next header
                byte[] meta = readData(in, size, name);
                if (type == 'L') longName = str(meta, 0, meta.length);
                if (type == 'x') {
                    for (String rec : new String(meta, StandardCharsets.UTF_8).split("\n")) {
                        int sp = rec.indexOf(' '), eq = rec.indexOf('=');
                        if (sp < 0 || eq < sp) continue;
                        String key = rec.substring(sp + 1, eq), val = rec.substring(eq + 1);
                        if (key.equals("path")) paxPath = val;
                        if (key.equals("size")) paxSize = Long.parseLong(val);
                    }
                }
                continue;
            }
            if (longName != null) path = longName;
            if (paxPath != null) path = paxPath;
            if (paxSize >= 0) size = paxSize;
            longName = paxPath = null;
            paxSize = -1;
            Path target = root.resolve(path).normalize();
            if (!target.startsWith(root) || target.equals(root) && type != '5')
                throw new IllegalArgumentException(name + ": entry '" + path + "' would be written outside " + root + "; refusing the archive");
            if (type == '0' || type == '\0' || type == '7') {
                Files.createDirectories(target.getParent());
                try (OutputStream out = Files.newOutputStream(target)) {
                    copy(in, out, size, name);
                }
                skip(in, pad(size), name);
            } else {
                if (type == '5') Files.createDirectories(target);
                skip(in, size + pad(size), name); // links, devices, fifos: not needed for weights
            }
        }
    }

    private static long pad(long size) { return (512 - size % 512) % 512; }

    private static byte[] readData(InputStream in, long size, String name) throws IOException {
        if (size > (1 << 20)) throw new IllegalArgumentException(name + ": tar metadata entry too large");
        byte[] d = in.readNBytes((int) size);
        if (d.length < size) throw new IllegalArgumentException(name + ": truncated tar archive");
        skip(in, pad(size), name);
        return d;
    }

    private static void copy(InputStream in, OutputStream out, long size, String name) throws IOException {
        byte[] buf = new byte[1 << 16];
        while (size > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, size));
            if (r < 0) throw new IllegalArgumentException(name + ": truncated tar archive");
            out.write(buf, 0, r);
            size -= r;
        }
    }

    private static void skip(InputStream in, long n, String name) throws IOException {
        try {
            in.skipNBytes(n);
        } catch (java.io.EOFException e) {
            throw new IllegalArgumentException(name + ": truncated tar archive");
        }
    }

    private static boolean isZero(byte[] h) {
        for (byte x : h) if (x != 0) return false;
        return true;
    }

    private static boolean checksumOk(byte[] h) {
        long want;
        try {
            want = octal(h, 148, 8, "");
        } catch (IllegalArgumentException e) {
            return false;
        }
        long sum = 0;
        for (int k = 0; k < 512; k++) sum += (k >= 148 && k < 156) ? ' ' : (h[k] & 0xff);
        return sum == want;
    }

    private static String str(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && end < b.length && b[end] != 0) end++;
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    /** Octal number field, or GNU base-256 when the top bit is set (sizes over 8 GB). */
    private static long octal(byte[] h, int off, int len, String name) {
        if ((h[off] & 0x80) != 0) {
            long v = 0;
            for (int k = off + 1; k < off + len; k++) v = (v << 8) | (h[k] & 0xff);
            return v;
        }
        String s = str(h, off, len).trim();
        if (s.isEmpty()) return 0;
        try {
            return Long.parseLong(s, 8);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": bad number '" + s + "' in tar header");
        }
    }
}
