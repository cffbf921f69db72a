package conta.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WeightFilesTest {
    static final Path DIR = Path.of("test-data/io");

    @TempDir
    Path tmp;

    @Test
    void dispatchesOnContent() throws IOException {
        assertEquals(WeightFiles.Kind.PTH, WeightFiles.kind(DIR.resolve("tiny_zip.pth")));
        assertEquals(WeightFiles.Kind.PTH, WeightFiles.kind(DIR.resolve("tiny_legacy.pth")));
        assertEquals(WeightFiles.Kind.SAFETENSORS, WeightFiles.kind(DIR.resolve("mixed.safetensors")));
        assertEquals(WeightFiles.Kind.NPZ, WeightFiles.kind(DIR.resolve("tiny_expected.npz")));
        assertEquals(WeightFiles.Kind.NPY, WeightFiles.kind(DIR.resolve("f32.npy")));
        // a .pth renamed to .bin is still found by its magic bytes
        Path bin = tmp.resolve("weights.bin");
        Files.copy(DIR.resolve("tiny_zip.pth"), bin);
        var a = WeightFiles.load(bin);
        var b = WeightFiles.load(DIR.resolve("tiny_legacy.pth"));
        var c = WeightFiles.load(DIR.resolve("tiny_expected.npz"));
        assertEquals(List.copyOf(c.keySet()), List.copyOf(a.keySet()));
        for (String k : c.keySet()) {
            assertArrayEquals(c.get(k).data(), a.get(k).data(), k);
            assertArrayEquals(c.get(k).data(), b.get(k).data(), k);
        }
        assertEquals(List.of("f32"), List.copyOf(WeightFiles.load(DIR.resolve("f32.npy")).keySet()));
        assertEquals(6, WeightFiles.load(DIR.resolve("mixed.safetensors")).size());
    }

    @Test
    void loadsTfjsModelJsonAndItsFolder() throws IOException {
        Path json = TfjsTest.writeModel(tmp.resolve("m"), List.of(Map.of("d/kernel", TfjsTest.seq(1, 2, 3))), 1, null);
        assertEquals(WeightFiles.Kind.TFJS, WeightFiles.kind(json));
        assertArrayEquals(new int[]{2, 3}, WeightFiles.load(json).get("d/kernel").shape());
        assertArrayEquals(new int[]{2, 3}, WeightFiles.load(json.getParent()).get("d/kernel").shape());
    }

    @Test
    void unknownFormatsAreOneLineErrors() throws IOException {
        Path txt = tmp.resolve("notes.txt");
        Files.writeString(txt, "hello world, not weights");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WeightFiles.load(txt));
        assertEquals(txt + ": unknown weight file format; supported: " + WeightFiles.SUPPORTED, e.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> WeightFiles.load(tmp.resolve("nope.pth")))
                .getMessage().endsWith("nope.pth does not exist; check the path"));
        Path folder = Files.createDirectories(tmp.resolve("syn"));
        assertEquals(folder + " is a folder; give a weights file (.pth, .safetensors, .npz, .npy)",
                assertThrows(IllegalArgumentException.class, () -> WeightFiles.load(folder)).getMessage());
        Path fakePth = tmp.resolve("fake.pth");
        Files.writeString(fakePth, "not a torch file");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> WeightFiles.load(fakePth))
                .getMessage().startsWith(fakePth + ": not a PyTorch file"));
    }
}
