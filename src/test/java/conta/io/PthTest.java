package conta.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PthTest {
    static final Path DIR = Path.of("test-data/io");
    static final Path PWNED = Path.of("/tmp/conta-pwned");
    static LinkedHashMap<String, HostArray> expected;

    @TempDir
    Path tmp;

    @BeforeAll
    static void loadExpected() throws IOException {
        expected = Npy.readNpz(DIR.resolve("tiny_expected.npz"));
    }

    private static void assertMatchesExpected(LinkedHashMap<String, HostArray> got) {
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(got.keySet()), "names in file order");
        for (var e : expected.entrySet()) {
            HostArray g = got.get(e.getKey());
            assertArrayEquals(e.getValue().shape(), g.shape(), e.getKey());
            assertArrayEquals(e.getValue().data(), g.data(), e.getKey());
        }
    }

    @Test
    void loadsZipFormat() throws IOException {
        var sd = Pth.load(DIR.resolve("tiny_zip.pth"));
        assertMatchesExpected(sd);
        assertArrayEquals(new int[]{6, 4}, sd.get("extra.transposed").shape());
        assertEquals(0.5f * 6, sd.get("extra.transposed").data()[1], "strided gather: t[0][1] = base[1][0]");
        assertArrayEquals(new float[]{4, 4.5f, 5, 7, 7.5f, 8}, sd.get("extra.slice").data());
        assertArrayEquals(new float[]{7}, sd.get("bn.num_batches_tracked").data());
        assertEquals(0, sd.get("bn.num_batches_tracked").shape().length);
    }

    @Test
    void loadsLegacyFormat() throws IOException {
        assertMatchesExpected(Pth.load(DIR.resolve("tiny_legacy.pth")));
    }

    @Test
    void loadsProtocol4() throws IOException {
        assertMatchesExpected(Pth.load(DIR.resolve("tiny_p4.pth")));
    }

    @Test
    void unwrapsCheckpointDicts() throws IOException {
        assertMatchesExpected(Pth.load(DIR.resolve("tiny_ckpt.pth"))); // {'epoch', 'lr', ..., 'state_dict'}
        assertMatchesExpected(Pth.load(DIR.resolve("tiny_model_wrapper.pth"))); // legacy {'model', 'step'}
    }

    private static PthSecurityException assertRefused(String file, String global) throws IOException {
        Files.deleteIfExists(PWNED);
        PthSecurityException e = assertThrows(PthSecurityException.class, () -> Pth.load(DIR.resolve(file)));
        assertEquals("refusing to load " + DIR.resolve(file) + ": pickle calls GLOBAL " + global
                + "; only tensors and state dicts are allowed", e.getMessage());
        assertFalse(Files.exists(PWNED), "payload must never run");
        return e;
    }

    @Test
    void refusesOsSystem() throws IOException {
        assertRefused("evil_system.pth", "posix.system");
    }

    @Test
    void refusesBuiltinsEval() throws IOException {
        assertRefused("evil_eval.pth", "builtins.eval"); // protocol 4: STACK_GLOBAL
        assertRefused("evil_eval_p0.pth", "__builtin__.eval"); // protocol 0: text GLOBAL, python-2 name
    }

    @Test
    void refusesLoadFromBytes() throws IOException {
        assertRefused("evil_load_from_bytes.pth", "torch.storage._load_from_bytes");
    }

    @Test
    void refusesOtherGlobalsInHandMadePickles() throws IOException {
        // PROTO 2, GLOBAL '__builtin__ exec', then junk that must never be reached
        byte[] p = {(byte) 0x80, 2, 'c', '_', '_', 'b', 'u', 'i', 'l', 't', 'i', 'n', '_', '_', '\n', 'e', 'x', 'e', 'c', '\n', (byte) 0xff};
        Path f = tmp.resolve("exec.pth");
        Files.write(f, p);
        PthSecurityException e = assertThrows(PthSecurityException.class, () -> Pth.load(f));
        assertTrue(e.getMessage().contains("GLOBAL __builtin__.exec"), e.getMessage());
    }

    @Test
    void clearErrorsForNonTorchFiles() throws IOException {
        Path f = tmp.resolve("junk.pth");
        Files.write(f, new byte[]{1, 2, 3, 4, 5, 6});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Pth.load(f));
        assertTrue(e.getMessage().startsWith(f + ": not a PyTorch file"), e.getMessage());
        byte[] legacy = Files.readAllBytes(DIR.resolve("tiny_legacy.pth"));
        Path cut = tmp.resolve("cut.pth");
        Files.write(cut, java.util.Arrays.copyOf(legacy, legacy.length - 10));
        e = assertThrows(IllegalArgumentException.class, () -> Pth.load(cut));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        Path npy = DIR.resolve("f32.npy");
        e = assertThrows(IllegalArgumentException.class, () -> Pth.load(npy));
        assertTrue(e.getMessage().startsWith(npy + ": not a PyTorch file"), e.getMessage());
    }
}
