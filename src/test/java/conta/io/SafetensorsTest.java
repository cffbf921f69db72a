package conta.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path tmp;

    @Test
    void readsAllDtypesAndMetadata() throws IOException {
        Safetensors.Contents c = Safetensors.readAll(Path.of("test-data/io/mixed.safetensors"));
        var t = c.tensors();
        assertEquals(List.of("h", "b", "d", "l", "i", "f"), List.copyOf(t.keySet()));
        assertArrayEquals(new float[]{0.5f, -1.25f, 65504f}, t.get("h").data());
        assertArrayEquals(new int[]{2, 2}, t.get("b").shape());
        assertArrayEquals(new float[]{1.5f, -2f, 3.140625f, 0.0078125f}, t.get("b").data());
        assertArrayEquals(new float[]{1e-3f, -7.5f}, t.get("d").data());
        assertArrayEquals(new float[]{9, -4}, t.get("l").data());
        assertArrayEquals(new int[]{1, 2}, t.get("l").shape());
        assertArrayEquals(new float[]{123456}, t.get("i").data());
        assertArrayEquals(new float[]{0.25f}, t.get("f").data());
        assertEquals(Map.of("format", "pt", "note", "mixed dtypes"), c.metadata());
    }

    @Test
    void writesF32AtomicallyAndReadsBack() throws IOException {
        LinkedHashMap<String, HostArray> m = new LinkedHashMap<>();
        m.put("z.weight", new HostArray(new int[]{2, 3}, new float[]{1, 2, 3, 4, 5, -6}));
        m.put("a.bias", new HostArray(new int[]{3}, new float[]{0.1f, Float.MIN_VALUE, -0f}));
        m.put("scalar", new HostArray(new int[]{}, new float[]{7}));
        m.put("empty", new HostArray(new int[]{0, 4}, new float[0]));
        Path p = tmp.resolve("sub/w.safetensors");
        Safetensors.write(p, m, Map.of("source", "test"));
        Files.writeString(tmp.resolve("sub/other"), "x"); // the folder holds only what we wrote
        assertFalse(Files.exists(tmp.resolve("sub/w.safetensors.tmp")));
        Safetensors.Contents c = Safetensors.readAll(p);
        assertEquals(List.copyOf(m.keySet()), List.copyOf(c.tensors().keySet()));
        for (String k : m.keySet()) {
            assertArrayEquals(m.get(k).shape(), c.tensors().get(k).shape(), k);
            assertArrayEquals(m.get(k).data(), c.tensors().get(k).data(), k);
        }
        assertEquals(Map.of("source", "test"), c.metadata());
        long headerLen = ByteBuffer.wrap(Files.readAllBytes(p), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8);
        // overwrite replaces the file
        Safetensors.write(p, Map.of("only", new HostArray(new int[]{1}, new float[]{3})));
        assertEquals(List.of("only"), List.copyOf(Safetensors.read(p).keySet()));
        assertTrue(Safetensors.metadata(p).isEmpty());
        assertEquals("F32", Safetensors.entries(p).getFirst().dtype());
    }

    /** Writes a safetensors file with a hand-made header. */
    private Path raw(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = tmp.resolve("bad.safetensors");
        Files.write(p, b.array());
        return p;
    }

    private static void assertBad(Path p, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Safetensors.read(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        for (String s : parts) assertTrue(e.getMessage().contains(s), e.getMessage());
    }

    @Test
    void refusesCorruptFiles() throws IOException {
        assertBad(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4), "'w'", "outside");
        assertBad(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8), "'w'", "12 bytes", "span 8");
        assertBad(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "'a'", "'b'", "overlap");
        assertBad(raw("{\"w\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8), "'w'", "unsupported dtype C64");
        assertBad(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],", 8), "not valid JSON");
        assertBad(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4), "'w'");
        Path p = tmp.resolve("huge.safetensors");
        Files.write(p, new byte[]{(byte) 0xff, 0, 0, 0, 0, 0, 0, 0x7f, '{', '}'});
        assertBad(p, "header length");
        Files.write(p, new byte[]{1, 2});
        assertBad(p, "not a safetensors file");
    }

    /**
     * A cut-off copy of a real safetensors file is "truncated", whatever its header length: one of 640 bytes starts
     * 0x80 0x02, which is also how a protocol-2 pickle starts, and was named "a Python pickle" ("not a conta model")
     * instead of "truncated ... download or copy it again".
     */
    @Test
    void aTruncatedFileWhoseHeaderLengthLooksLikeAPickleIsTruncated() throws IOException {
        String json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        byte[] header = (json + " ".repeat(640 - json.length())).getBytes(StandardCharsets.UTF_8); // padded with spaces, as writers pad
        ByteBuffer b = ByteBuffer.allocate(8 + 640 + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(640).put(header).putFloat(1.5f).putFloat(-2f);
        Path p = tmp.resolve("w.safetensors");
        Files.write(p, b.array());
        assertArrayEquals(new float[]{1.5f, -2f}, Safetensors.readAll(p).tensors().get("w").data(), "the intact file reads");
        Files.write(p, java.util.Arrays.copyOf(b.array(), 300)); // an interrupted download
        assertBad(p, "truncated safetensors file");
    }

    /** Files of another kind are named as such: real torch.save outputs (zip, legacy pickle) and a text file. */
    @Test
    void namesFilesOfAnotherKind() throws IOException {
        Path zip = Path.of("test-data/fixtures/resnet18_w8/init.pth"), pickle = Path.of("test-data/io/tiny_legacy.pth");
        Path text = tmp.resolve("notes.safetensors");
        Files.writeString(text, "weights are in\nthe other folder\n");
        assertEquals(zip + ": not a safetensors file (it is a zip archive, as PyTorch's torch.save writes)",
                assertThrows(Safetensors.NotSafetensors.class, () -> Safetensors.read(zip)).getMessage());
        assertEquals(pickle + ": not a safetensors file (it is a Python pickle, as older PyTorch checkpoints are)",
                assertThrows(Safetensors.NotSafetensors.class, () -> Safetensors.metadata(pickle)).getMessage());
        assertEquals(text + ": not a safetensors file (it is text, beginning \"weights \")",
                assertThrows(Safetensors.NotSafetensors.class, () -> Safetensors.entries(text)).getMessage());
        // images given as a model (a newcomer's mistake): real files of the repository, named by their magic bytes
        try (var jpgs = Files.list(Path.of("test-data/jpeg"))) {
            Path jpg = jpgs.filter(f -> f.toString().endsWith(".jpg")).findFirst().orElseThrow();
            assertEquals("a JPEG image", assertThrows(Safetensors.NotSafetensors.class, () -> Safetensors.read(jpg)).kind);
        }
        Path png = tmp.resolve("mask.png");
        javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(20, 20, java.awt.image.BufferedImage.TYPE_BYTE_GRAY), "png", png.toFile());
        assertEquals("a PNG image", assertThrows(Safetensors.NotSafetensors.class, () -> Safetensors.read(png)).kind);
        Path tab = tmp.resolve("tab.safetensors");
        Files.writeString(tab, "a\tb\r\nc,d,e\n");
        assertEquals("text, beginning \"a b  c,d\"", assertThrows(Safetensors.NotSafetensors.class, () -> Safetensors.read(tab)).kind);
    }
}
