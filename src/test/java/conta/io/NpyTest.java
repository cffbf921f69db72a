package conta.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    static final Path DIR = Path.of("test-data/io");

    @TempDir
    Path tmp;

    static HostArray read(String name) throws IOException { return Npy.read(DIR.resolve(name)); }

    @Test
    void readsEveryDtype() throws IOException {
        HostArray f = read("f32.npy");
        assertArrayEquals(new int[]{3, 4}, f.shape());
        for (int k = 0; k < 12; k++) assertEquals(k / 4f - 1, f.data()[k]);
        HostArray d = read("f64.npy");
        assertArrayEquals(new int[]{2, 3}, d.shape());
        assertEquals(0.3f, d.data()[5], 1e-7);
        assertArrayEquals(new float[]{-3, 0, 7, (float) (1L << 40), 5, -1}, read("i64.npy").data());
        assertArrayEquals(new float[]{-2, 0, 3, 100000}, read("i32.npy").data());
        assertArrayEquals(new float[]{0, 1, 255}, read("u8.npy").data());
        assertArrayEquals(new int[]{1, 3}, read("u8.npy").shape());
        assertArrayEquals(new float[]{1, 0, 1}, read("bool.npy").data());
        HostArray s = read("scalar.npy");
        assertEquals(0, s.shape().length);
        assertArrayEquals(new float[]{2.5f}, s.data());
    }

    @Test
    void readsFormatVersions2And3() throws IOException {
        HostArray v1 = read("f32.npy");
        for (String v : new String[]{"f32_v2.npy", "f32_v3.npy"}) {
            HostArray a = read(v);
            assertArrayEquals(v1.shape(), a.shape());
            assertArrayEquals(v1.data(), a.data());
        }
    }

    @Test
    void badFilesNameFileAndProblem() {
        assertError("fortran.npy", "Fortran order");
        assertError("truncated.npy", "truncated data");
        assertError("truncated.npy", "(the file is cut short; write it again)");
        assertError("bigendian.npy", "big-endian");
        assertError("complex.npy", "unsupported dtype '<c8'");
        assertError("mixed.safetensors", "not a .npy file");
    }

    private static void assertError(String file, String problem) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> read(file));
        assertTrue(e.getMessage().contains(file), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
    }

    @Test
    void writeThenReadRoundTrips() throws IOException {
        for (int[] shape : new int[][]{{}, {5}, {2, 3, 4}, {0, 3}}) {
            int n = 1;
            for (int d : shape) n *= d;
            float[] v = new float[n];
            for (int k = 0; k < n; k++) v[k] = (float) Math.sin(k) * 1e3f;
            Path p = tmp.resolve("a" + shape.length + ".npy");
            Npy.write(p, new HostArray(shape, v));
            HostArray back = Npy.read(p);
            assertArrayEquals(shape, back.shape());
            assertArrayEquals(v, back.data());
            byte[] raw = Files.readAllBytes(p);
            assertEquals(0, (raw.length - 4 * n) % 64, "data must start 64-byte aligned");
            assertFalse(Files.exists(tmp.resolve(p.getFileName() + ".tmp")));
        }
    }

    @Test
    void writtenBytesMatchNumpy() throws IOException {
        // numpy wrote f32.npy; writing the same array must give the same bytes, so numpy reads ours
        byte[] ours = Npy.toBytes(read("f32.npy"));
        assertArrayEquals(Files.readAllBytes(DIR.resolve("f32.npy")), ours);
        assertArrayEquals(Files.readAllBytes(DIR.resolve("scalar.npy")), Npy.toBytes(read("scalar.npy")));
    }

    @Test
    void readsNpz() throws IOException {
        var m = Npy.readNpz(DIR.resolve("tiny_expected.npz"));
        assertEquals("conv.weight", m.keySet().iterator().next());
        assertArrayEquals(new int[]{4, 3, 3, 3}, m.get("conv.weight").shape());
    }

    /**
     * An .npz's entries carry numpy.savez's fixed time (zipfile's default date_time, 1980-01-01 00:00; checked with
     * numpy 1.x here), so equal arrays give equal files: two identical runs' CAM files differed in their zip times.
     */
    @Test
    void npzEntriesCarryNumpysFixedTime() throws IOException {
        Path a = tmp.resolve("a.npz");
        var arrays = new java.util.LinkedHashMap<String, HostArray>();
        arrays.put("cam", new HostArray(new int[]{2, 3}, new float[]{1, 2, 3, 4, 5, 6}));
        arrays.put("keys", new HostArray(new int[]{2}, new float[]{0, 7}));
        Npy.writeNpz(a, arrays);
        try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(a.toFile())) {
            for (var e : java.util.Collections.list(z.entries()))
                assertEquals(java.time.LocalDateTime.of(1980, 1, 1, 0, 0), e.getTimeLocal(), e.getName());
        }
        assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, Npy.readNpz(a).get("cam").data());
    }
}
