package conta.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TfjsTest {
    @TempDir
    Path tmp;

    /** Values k + base: each weight distinct so layout mistakes show. */
    static HostArray seq(float base, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] v = new float[n];
        for (int k = 0; k < n; k++) v[k] = base + k;
        return new HostArray(shape, v);
    }

    /** Writes a tfjs layers model.json with the weights split over {@code shards} files per group. */
    static Path writeModel(Path dir, List<Map<String, HostArray>> groups, int shards, String extraSpec) throws IOException {
        Files.createDirectories(dir);
        List<Object> manifest = new ArrayList<>();
        int g = 0;
        for (Map<String, HostArray> group : groups) {
            g++;
            List<Object> specs = new ArrayList<>();
            long bytes = 0;
            for (var e : group.entrySet()) {
                Map<String, Object> s = new LinkedHashMap<>();
                s.put("name", e.getKey());
                s.put("shape", e.getValue().shape());
                s.put("dtype", "float32");
                specs.add(s);
                bytes += 4L * e.getValue().data().length;
            }
            ByteBuffer all = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
            for (HostArray a : group.values()) for (float f : a.data()) all.putFloat(f);
            List<Object> paths = new ArrayList<>();
            int per = (int) Math.ceil(bytes / (double) shards); // cuts fall inside weights on purpose
            for (int s = 0; s < shards; s++) {
                String name = "group" + g + "-shard" + (s + 1) + "of" + shards + ".bin";
                int from = Math.min(s * per, (int) bytes), to = Math.min(from + per, (int) bytes);
                Files.write(dir.resolve(name), java.util.Arrays.copyOfRange(all.array(), from, to));
                paths.add(name);
            }
            manifest.add(Map.of("paths", paths, "weights", specs));
        }
        String json = "{\"format\": \"layers-model\", \"modelTopology\": {\"model_config\": {}}, \"weightsManifest\": "
                + Json.write(manifest) + "}";
        if (extraSpec != null) json = json.replace("\"dtype\":\"float32\"}", "\"dtype\":\"float32\"," + extraSpec + "}");
        Path p = dir.resolve("model.json");
        Files.writeString(p, json);
        return p;
    }

    @Test
    void loadsWeightsAcrossShardsAndGroups() throws IOException {
        Map<String, HostArray> g1 = new LinkedHashMap<>(), g2 = new LinkedHashMap<>();
        g1.put("dense/kernel", seq(0, 3, 5));
        g1.put("dense/bias", seq(100, 5));
        g2.put("conv/kernel", seq(-50, 2, 2, 3, 4));
        Path json = writeModel(tmp, List.of(g1, g2), 3, null);
        LinkedHashMap<String, HostArray> w = Tfjs.load(json);
        assertEquals(List.of("dense/kernel", "dense/bias", "conv/kernel"), List.copyOf(w.keySet()));
        for (String k : w.keySet()) {
            HostArray want = (g1.containsKey(k) ? g1 : g2).get(k);
            assertArrayEquals(want.shape(), w.get(k).shape());
            assertArrayEquals(want.data(), w.get(k).data());
        }
    }

    @Test
    void refusesQuantizedAndMissingShards() throws IOException {
        Path json = writeModel(tmp.resolve("q"), List.of(Map.of("w/kernel", seq(0, 2))), 1,
                "\"quantization\":{\"dtype\":\"uint8\",\"scale\":0.1,\"min\":0}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tfjs.load(json));
        assertTrue(e.getMessage().startsWith(json.toString()) && e.getMessage().contains("quantized"), e.getMessage());

        Path json2 = writeModel(tmp.resolve("m"), List.of(Map.of("w/kernel", seq(0, 2, 8))), 2, null);
        Files.delete(json2.resolveSibling("group1-shard2of2.bin"));
        e = assertThrows(IllegalArgumentException.class, () -> Tfjs.load(json2));
        assertTrue(e.getMessage().contains("group1-shard2of2.bin") && e.getMessage().contains("missing"), e.getMessage());

        Files.write(json2.resolveSibling("group1-shard2of2.bin"), new byte[4]);
        e = assertThrows(IllegalArgumentException.class, () -> Tfjs.load(json2));
        assertTrue(e.getMessage().contains("'w/kernel'") && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void convertsKerasResNetNamesAndLayouts() {
        Map<String, HostArray> k = new LinkedHashMap<>();
        // tfjs order: bn first, alphabetical; the result must be in torchvision module order
        for (String bn : new String[]{"bn2a_branch1", "bn2a_branch2a", "bn3b_branch2c", "bn_conv1"}) {
            k.put(bn + "/gamma", seq(1, 4));
            k.put(bn + "/beta", seq(2, 4));
            k.put(bn + "/moving_mean", seq(3, 4));
            k.put(bn + "/moving_variance", seq(4, 4));
        }
        k.put("conv1/kernel", seq(0, 7, 5, 3, 2)); // odd sizes expose a wrong transpose
        k.put("conv1/bias", seq(0, 2));
        k.put("fc1000/kernel", seq(0, 3, 5));
        k.put("fc1000/bias", seq(0, 5));
        k.put("res2a_branch1/kernel", seq(0, 1, 1, 2, 4));
        k.put("res2a_branch1/bias", seq(0, 4));
        k.put("res2a_branch2a/kernel", seq(0, 1, 1, 2, 4));
        k.put("res2a_branch2a/bias", seq(0, 4));
        k.put("res3b_branch2c/kernel", seq(0, 3, 3, 4, 4));
        k.put("res3b_branch2c/bias", seq(0, 4));
        assertTrue(Tfjs.isKerasResNet(k));
        LinkedHashMap<String, HostArray> t = Tfjs.toTorchNames(k);
        assertEquals(List.of("conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                "layer1.0.conv1.weight", "layer1.0.conv1.bias",
                "layer1.0.bn1.weight", "layer1.0.bn1.bias", "layer1.0.bn1.running_mean", "layer1.0.bn1.running_var",
                "layer1.0.downsample.0.weight", "layer1.0.downsample.0.bias",
                "layer1.0.downsample.1.weight", "layer1.0.downsample.1.bias", "layer1.0.downsample.1.running_mean",
                "layer1.0.downsample.1.running_var",
                "layer2.1.conv3.weight", "layer2.1.conv3.bias",
                "layer2.1.bn3.weight", "layer2.1.bn3.bias", "layer2.1.bn3.running_mean", "layer2.1.bn3.running_var",
                "fc.weight", "fc.bias"), List.copyOf(t.keySet()));
        HostArray c = t.get("conv1.weight"), src = k.get("conv1/kernel");
        assertArrayEquals(new int[]{2, 3, 7, 5}, c.shape());
        for (int o = 0; o < 2; o++)
            for (int i = 0; i < 3; i++)
                for (int h = 0; h < 7; h++)
                    for (int w = 0; w < 5; w++)
                        assertEquals(src.data()[((h * 5 + w) * 3 + i) * 2 + o], c.data()[((o * 3 + i) * 7 + h) * 5 + w]);
        HostArray fc = t.get("fc.weight");
        assertArrayEquals(new int[]{5, 3}, fc.shape());
        assertEquals(k.get("fc1000/kernel").data()[2 * 5 + 4], fc.data()[4 * 3 + 2]); // [in=2][out=4] -> [4][2]
        assertArrayEquals(seq(4, 4).data(), t.get("bn1.running_var").data());
        assertArrayEquals(seq(1, 4).data(), t.get("layer2.1.bn3.weight").data());
    }

    @Test
    void caffeNumberedBlocksAndUnknownNames() {
        Map<String, HostArray> k = new LinkedHashMap<>();
        k.put("res4b12_branch2a/bias", seq(0, 2));
        k.put("bn4b3_branch2b/beta", seq(0, 2));
        assertEquals(List.of("layer3.3.bn2.bias", "layer3.12.conv1.bias"), List.copyOf(Tfjs.toTorchNames(k).keySet()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tfjs.toTorchNames(Map.of("dense_7/kernel", seq(0, 2, 2))));
        assertTrue(e.getMessage().contains("'dense_7/kernel'"), e.getMessage());
    }
}
