package conta.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TarTest {
    @TempDir
    Path tmp;

    /** One ustar header + data padded to 512. */
    static void entry(ByteArrayOutputStream out, String name, char type, byte[] data) {
        byte[] h = new byte[512];
        put(h, 0, name);
        put(h, 100, "0000644");
        put(h, 124, String.format("%011o", data.length));
        put(h, 136, "00000000000");
        h[156] = (byte) type;
        put(h, 257, "ustar");
        h[262] = 0;
        put(h, 263, "00");
        for (int k = 148; k < 156; k++) h[k] = ' ';
        long sum = 0;
        for (byte x : h) sum += x & 0xff;
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        out.writeBytes(h);
        out.writeBytes(data);
        out.writeBytes(new byte[(512 - data.length % 512) % 512]);
    }

    static void put(byte[] h, int off, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(b, 0, h, off, b.length);
    }

    private Path tgz(ByteArrayOutputStream tar) throws IOException {
        tar.writeBytes(new byte[1024]);
        Path p = tmp.resolve("a.tgz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(p))) {
            o.write(tar.toByteArray());
        }
        return p;
    }

    @Test
    void extractsFilesFoldersLongNamesAndPax() throws IOException {
        ByteArrayOutputStream t = new ByteArrayOutputStream();
        entry(t, "package/", '5', new byte[0]);
        entry(t, "package/a.txt", '0', "hello".getBytes());
        byte[] big = new byte[1300];
        for (int k = 0; k < big.length; k++) big[k] = (byte) k;
        entry(t, "package/sub/b.bin", '0', big);
        String longName = "package/" + "x".repeat(150) + ".txt";
        entry(t, "././@LongLink", 'L', (longName + "\0").getBytes());
        entry(t, "package/truncated-name", '0', "long".getBytes());
        String rec = "package/pax-name.txt";
        String paxBody = " path=" + rec + "\n";
        int len = paxBody.length() + 2; // two digits of length prefix
        entry(t, "PaxHeader", 'x', (len + paxBody).getBytes());
        entry(t, "package/short", '0', "pax".getBytes());
        entry(t, "package/link", '2', new byte[0]);
        Path out = tmp.resolve("out");
        Tar.extractTgz(tgz(t), out);
        assertEquals("hello", Files.readString(out.resolve("package/a.txt")));
        assertTrue(java.util.Arrays.equals(big, Files.readAllBytes(out.resolve("package/sub/b.bin"))));
        assertEquals("long", Files.readString(out.resolve(longName)));
        assertEquals("pax", Files.readString(out.resolve(rec)));
        assertFalse(Files.exists(out.resolve("package/link")));
    }

    @Test
    void refusesPathsOutsideTheTarget() throws IOException {
        ByteArrayOutputStream t = new ByteArrayOutputStream();
        entry(t, "package/../../evil.txt", '0', "x".getBytes());
        Path p = tgz(t);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tar.extractTgz(p, tmp.resolve("o")));
        assertTrue(e.getMessage().contains("outside"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("evil.txt")));
    }

    @Test
    void corruptArchivesAreClearErrors() throws IOException {
        Path notGz = tmp.resolve("x.tgz");
        Files.writeString(notGz, "plain text");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Tar.extractTgz(notGz, tmp.resolve("o")))
                .getMessage().contains("not a gzip file"));
        ByteArrayOutputStream t = new ByteArrayOutputStream();
        entry(t, "package/a.txt", '0', new byte[2000]);
        byte[] cut = java.util.Arrays.copyOf(t.toByteArray(), 1024);
        Path p = tmp.resolve("cut.tgz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(p))) {
            o.write(cut);
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Tar.extractTgz(p, tmp.resolve("o2")))
                .getMessage().contains("truncated"));
        byte[] junk = new byte[512];
        junk[0] = 'a';
        Path j = tmp.resolve("junk.tgz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(j))) {
            o.write(junk);
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Tar.extractTgz(j, tmp.resolve("o3")))
                .getMessage().contains("checksum"));
    }
}
