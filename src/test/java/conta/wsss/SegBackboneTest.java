package conta.wsss;

import conta.config.Config;
import static org.junit.jupiter.api.Assertions.*;

import conta.error.UserError;
import conta.io.HostArray;
import conta.io.Safetensors;
import conta.config.Config;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The default segmentation network is the one its weights fit: no recipe silently trains from random weights. */
class SegBackboneTest {
    @TempDir Path tmp;

    static Config with(String... kv) {
        Config c = new Config();
        c.applySets(List.of(kv));
        return c;
    }

    @Test
    void defaultIsDeepLabV2OnTheImagenetResNet50() {
        Config c = new Config();
        assertArrayEquals(new int[]{3, 4, 6, 3}, SegStage.blocks(c));
        assertEquals("DeepLab-v2 on ResNet-50 (width 64) from the ImageNet ResNet-50 weights (seg.blocks=auto)", SegStage.describe(c));
    }

    @Test
    void randomWeightsKeepDeepLabsResNet101AndExplicitBlocksWin() {
        assertArrayEquals(new int[]{3, 4, 23, 3}, SegStage.blocks(with("seg.weights=none")));
        assertArrayEquals(new int[]{1, 1, 1, 1}, SegStage.blocks(with("seg.weights=none", "seg.blocks=1,1,1,1")));
        assertArrayEquals(new int[]{3, 4, 6, 3}, SegStage.blocks(with("seg.blocks=3,4,6,3")));
    }

    @Test
    void blocksThatContradictTheImagenetWeightsAreRefused() {
        var e = assertThrows(UserError.class, () -> SegStage.blocks(with("seg.blocks=3,4,23,3")));
        assertTrue(e.getMessage().contains("seg.blocks=3,4,23,3 with seg.weights=imagenet"), e.getMessage());
        assertThrows(UserError.class, () -> SegStage.blocks(with("seg.weights=none", "seg.blocks=3,4")));
    }

    /** A torchvision ResNet-101 file (names only matter; tensors are tiny) gives 3,4,23,3 under auto. */
    @Test
    void aWeightsFileGivesItsOwnDepth() throws Exception {
        Map<String, HostArray> w = new LinkedHashMap<>();
        int[] depth = {3, 4, 23, 3};
        w.put("conv1.weight", new HostArray(new int[]{1}, new float[1]));
        for (int s = 0; s < 4; s++)
            for (int b = 0; b < depth[s]; b++) w.put("layer" + (s + 1) + "." + b + ".conv1.weight", new HostArray(new int[]{1}, new float[1]));
        Path f = tmp.resolve("r101.safetensors");
        Safetensors.write(f, w);
        Config c = with("seg.weights=" + f);
        assertArrayEquals(depth, SegStage.blocks(c));
        assertTrue(SegStage.describe(c).startsWith("DeepLab-v2 on ResNet-101"), SegStage.describe(c));
        Path g = tmp.resolve("empty.safetensors");
        Safetensors.write(g, Map.of("fc.weight", new HostArray(new int[]{1}, new float[1])));
        assertThrows(UserError.class, () -> SegStage.blocks(with("seg.weights=" + g)));
    }
}
