package conta.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.image.ImageCodec;
import conta.image.IndexPng;
import conta.image.RgbImage;
import conta.io.HostArray;
import conta.io.Safetensors;
import conta.wsss.Bundle;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java API on the tiny run's models: label maps equal the pipeline's pred/ PNGs (every input form), concurrent
 * callers get the single-threaded bytes, and bad input (missing/newer/incomplete bundles, 0 and 100000 px images, grey,
 * 16-bit and CMYK images, wrong output sizes) gives a ContaException with its code, never a crash.
 */
class ContaModelTest {
    @TempDir Path tmp;

    private static List<String> ids() throws Exception { return PredictCommandTest.predIds(); }

    @Test
    void everyInputFormGivesThePipelinesLabelMaps() throws Exception {
        try (ContaModel m = ContaModel.open(TinyRun.segModel(), "cpu")) {
            m.warmUp();
            assertEquals("seg", m.kind());
            assertEquals("background", m.classNames().getFirst());
            for (String id : ids().subList(0, 3)) {
                byte[] want = IndexPng.read(TinyRun.pred().resolve(id + ".png")).data();
                byte[] jpg = Files.readAllBytes(TinyRun.image(id));
                RgbImage im = ImageCodec.decode(jpg);
                assertArrayEquals(want, m.segment(jpg).labels(), id + " from JPEG bytes");
                byte[] out = new byte[im.w() * im.h()];
                assertTrue(out == m.segment(im.rgb(), im.w(), im.h(), out), "the caller's array is filled and returned");
                assertArrayEquals(want, out, id + " from RGB bytes");
                BufferedImage bi = new BufferedImage(im.w(), im.h(), BufferedImage.TYPE_3BYTE_BGR);
                for (int y = 0; y < im.h(); y++)
                    for (int x = 0; x < im.w(); x++) bi.setRGB(x, y, im.at(y, x, 0) << 16 | im.at(y, x, 1) << 8 | im.at(y, x, 2));
                assertArrayEquals(want, m.segment(bi).labels(), id + " from a BufferedImage");
            }
        }
    }

    /**
     * A steady call into the caller's array allocates less than half of what its network input alone used to take
     * (3 x h x w floats, allocated every call before session 18, with the logits and a label copy): the young
     * collections that followed reached the API's p99. Counted on the calling thread.
     */
    @Test
    void aSteadyCallAllocatesLessThanItsInput() throws Exception {
        RgbImage im = ImageCodec.read(TinyRun.image(ids().getFirst()));
        try (ContaModel m = ContaModel.open(TinyRun.segModel(), "cpu")) {
            byte[] out = new byte[im.w() * im.h()], want = m.segment(im.rgb(), im.w(), im.h(), null);
            for (int i = 0; i < 5; i++) m.segment(im.rgb(), im.w(), im.h(), out);
            var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            long t = Thread.currentThread().threadId(), a0 = mx.getThreadAllocatedBytes(t);
            for (int i = 0; i < 10; i++) m.segment(im.rgb(), im.w(), im.h(), out);
            long perCall = (mx.getThreadAllocatedBytes(t) - a0) / 10, input = 3L * im.w() * im.h() * Float.BYTES;
            assertTrue(perCall < input / 2, perCall + " bytes a call for a " + input + "-byte network input");
            assertArrayEquals(want, out);
        }
    }

    @Test
    void concurrentCallersGetTheSingleThreadedBytes() throws Exception {
        List<RgbImage> ims = new ArrayList<>();
        for (String id : ids()) ims.add(ImageCodec.read(TinyRun.image(id)));
        try (ContaModel m = ContaModel.open(TinyRun.segModel(), "cpu")) {
            List<byte[]> single = new ArrayList<>();
            for (RgbImage im : ims) single.add(m.segment(im.rgb(), im.w(), im.h(), null));
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<Boolean>> fs = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int start = t;
                    fs.add(pool.submit(() -> {
                        for (int r = 0; r < 3; r++)
                            for (int i = 0; i < ims.size(); i++) {
                                int k = (i + start) % ims.size(); // threads work on different images at once
                                RgbImage im = ims.get(k);
                                if (!java.util.Arrays.equals(single.get(k), m.segment(im.rgb(), im.w(), im.h(), new byte[im.w() * im.h()]))) return false;
                            }
                        return true;
                    }));
                }
                for (Future<Boolean> f : fs) assertTrue(f.get(), "a concurrent result equals the single-threaded one");
            } finally {
                pool.shutdown();
            }
        }
    }

    /**
     * bf16 plans: the same label maps as fp32 except where two classes' probabilities are within bf16's rounding (the
     * check: most pixels agree and the changed ones had a small fp32 margin), "auto" resolves by the CPU's AMX flag,
     * and a bad precision names itself.
     */
    @Test
    void bf16ModelAgreesWithFp32WhereTheMarginIsAboveRounding() throws Exception {
        RgbImage im = ImageCodec.read(TinyRun.image(ids().getFirst()));
        byte[] fp32, bf16;
        try (ContaModel m = ContaModel.open(TinyRun.segModel(), "cpu")) {
            assertEquals("fp32", m.precision());
            fp32 = m.segment(im.rgb(), im.w(), im.h(), null);
        }
        try (ContaModel m = ContaModel.open(TinyRun.segModel(), "cpu", "bf16")) {
            assertEquals("bf16", m.precision());
            bf16 = m.segment(im.rgb(), im.w(), im.h(), null);
        }
        float[] p;
        try (var b = new conta.tensor.cpu.CpuBackend(); var bm = conta.wsss.BundleModel.open(TinyRun.segModel(), b)) {
            p = conta.wsss.SegStage.probabilities((conta.models.DeepLabV2) bm.network(), bm.bundle.input(), im);
        }
        int hw = im.w() * im.h(), k = p.length / hw, same = 0;
        for (int px = 0; px < hw; px++) {
            if (fp32[px] == bf16[px]) { same++; continue; }
            float top = -1, second = -1;
            for (int j = 0; j < k; j++) {
                float v = p[j * hw + px];
                if (v > top) { second = top; top = v; } else if (v > second) second = v;
            }
            assertTrue(top - second < 0.05, "pixel " + px + " changed class under bf16 with an fp32 margin of " + (top - second));
        }
        assertTrue(same >= 0.95 * hw, same + " of " + hw + " pixels agree");
        try (ContaModel m = ContaModel.open(TinyRun.segModel(), "cpu", "auto")) {
            assertEquals(conta.infer.Precision.cpuHasAmx() ? "bf16" : "fp32", m.precision());
        }
        var empty = assertThrows(ContaException.class, () -> ContaModel.open(java.nio.file.Path.of(""), "cpu", "fp32"));
        assertEquals(ContaException.Code.ARGUMENT, empty.code());
        assertEquals("the bundle path is empty", empty.getMessage());
        var e = assertThrows(ContaException.class, () -> ContaModel.open(TinyRun.segModel(), "cpu", "fp16"));
        assertEquals(ContaException.Code.ARGUMENT, e.code());
        assertTrue(e.getMessage().contains("fp16"), e.getMessage());
        System.setProperty("conta.cuda.sync", "ture"); // read only by a CUDA backend's constructor: no other test sees it
        try {
            var bad = assertThrows(ContaException.class, () -> ContaModel.open(TinyRun.segModel(), "cpu", "fp32"));
            assertEquals(ContaException.Code.ARGUMENT, bad.code());
            assertEquals("-Dconta.cuda.sync=ture: expected true or false", bad.getMessage());
        } finally {
            System.clearProperty("conta.cuda.sync");
        }
    }

    @Test
    void camsOfAClassifierBundle() throws Exception {
        Path cls = tmp.resolve("cls.safetensors");
        assertEquals(0, conta.cli.Main.run(new String[]{"export", "--run", TinyRun.out().toString(), "--stage", "cls", "--out", cls.toString()}));
        try (ContaModel m = ContaModel.open(cls, "cpu")) {
            RgbImage im = ImageCodec.read(TinyRun.image(ids().getFirst()));
            float[] c = m.cams(im.rgb(), im.w(), im.h(), null);
            assertEquals(m.camClasses() * im.w() * im.h(), c.length);
            for (int k = 0; k < m.camClasses(); k++) { // max-normalised per class, as the pipeline's CAMs
                float mx = 0;
                for (int p = 0; p < im.w() * im.h(); p++) mx = Math.max(mx, c[k * im.w() * im.h() + p]);
                assertTrue(mx <= 1f && (mx == 0 || mx > 0.99f), "class " + k + " max " + mx);
            }
            var e = assertThrows(ContaException.class, () -> m.segment(im.rgb(), im.w(), im.h(), null));
            assertEquals(ContaException.Code.KIND, e.code());
            assertThrows(ContaException.class, () -> m.cams(im.rgb(), im.w(), im.h(), new float[3]));
            // class scores: the sigmoid of the logits ONNX Runtime computes from the exported classifier
            Path onnx = tmp.resolve("cls.onnx");
            assertEquals(0, conta.cli.Main.run(new String[]{"export", "--model", cls.toString(), "--stage", "cls", "--format", "onnx", "--out", onnx.toString()}));
            float[] logits;
            try (var s = conta.onnx.OrtCheck.open(onnx)) {
                logits = conta.onnx.OrtCheck.run(s, Map.of("image", new long[]{1, 3, im.h(), im.w()}),
                        Map.of("image", conta.data.Preprocess.IMAGENET.chw(im, false))).get("logits");
            }
            float[] scores = m.classScores(im.rgb(), im.w(), im.h(), new float[m.camClasses()]);
            assertEquals(m.camClasses(), logits.length);
            for (int k = 0; k < logits.length; k++) {
                double p = 1 / (1 + Math.exp(-logits[k]));
                assertEquals(p, scores[k], 1e-5 + 1e-4 * p, "class " + (k + 1));
            }
            assertEquals(ContaException.Code.ARGUMENT, assertThrows(ContaException.class, () -> m.classScores(im.rgb(), im.w(), im.h(), new float[2])).code());
        }
        try (ContaModel seg = ContaModel.open(TinyRun.segModel(), "cpu")) {
            assertEquals(ContaException.Code.KIND, assertThrows(ContaException.class, () -> seg.classScores(new byte[3 * 32 * 32], 32, 32, null)).code());
        }
    }

    @Test
    void badBundlesAreRefusedWithTheirReason() throws Exception {
        var e = assertThrows(ContaException.class, () -> ContaModel.open(tmp.resolve("nope.safetensors"), "cpu"));
        assertEquals(ContaException.Code.NOT_FOUND, e.code());
        assertTrue(e.getMessage().contains("nope.safetensors"), e.getMessage());

        Safetensors.Contents c = Safetensors.readAll(TinyRun.segModel());
        Map<String, HostArray> w = new LinkedHashMap<>(c.tensors());
        w.keySet().removeIf(k -> k.contains("#"));
        // a newer bundle format
        Map<String, String> meta = new LinkedHashMap<>(c.metadata());
        meta.put(Bundle.META_KEY, meta.get(Bundle.META_KEY).replace("\"format_version\":1", "\"format_version\":2"));
        Path newer = tmp.resolve("newer.safetensors");
        Safetensors.write(newer, w, meta);
        e = assertThrows(ContaException.class, () -> ContaModel.open(newer, "cpu"));
        assertEquals(ContaException.Code.MODEL, e.code());
        assertTrue(e.getMessage().contains("format version 2") && e.getMessage().contains("upgrade conta"), e.getMessage());
        // a weights file with a tensor missing
        Map<String, HostArray> less = new LinkedHashMap<>(w);
        less.remove("aspp.c2.weight");
        Path missing = tmp.resolve("missing.safetensors");
        Safetensors.write(missing, less, c.metadata());
        e = assertThrows(ContaException.class, () -> ContaModel.open(missing, "cpu"));
        assertEquals(ContaException.Code.MODEL, e.code());
        assertTrue(e.getMessage().contains("aspp.c2.weight"), e.getMessage());
        // not a safetensors file at all
        Path junk = tmp.resolve("junk.safetensors");
        Files.writeString(junk, "hello");
        assertEquals(ContaException.Code.MODEL, assertThrows(ContaException.class, () -> ContaModel.open(junk, "cpu")).code());
        // weights without a description outside a run
        Path bare = tmp.resolve("bare.safetensors");
        Safetensors.write(bare, w, Map.of("stage", "segmentation"));
        e = assertThrows(ContaException.class, () -> ContaModel.open(bare, "cpu"));
        assertTrue(e.getMessage().contains("conta export"), e.getMessage());
        // an unknown device
        assertEquals(ContaException.Code.DEVICE, assertThrows(ContaException.class, () -> ContaModel.open(TinyRun.segModel(), "tpu")).code());
    }

    /** A model file written before bundles (no description in its metadata) still loads inside its run and predicts the same. */
    @Test
    void aPreBundleRunStillLoads() throws Exception {
        Path run = tmp.resolve("oldrun");
        Files.createDirectories(run.resolve("round0/seg"));
        Files.copy(TinyRun.out().resolve("config.json"), run.resolve("config.json"));
        Safetensors.Contents c = Safetensors.readAll(TinyRun.segModel());
        Safetensors.write(run.resolve("round0/seg/model.safetensors"), c.tensors(), Map.of("stage", "segmentation", "step", "6"));
        assertTrue(Bundle.readMeta(run.resolve("round0/seg/model.safetensors")) == null, "no description");
        String id = ids().getFirst();
        try (ContaModel old = ContaModel.open(run, "cpu")) {
            assertArrayEquals(IndexPng.read(TinyRun.pred().resolve(id + ".png")).data(), old.segment(Files.readAllBytes(TinyRun.image(id))).labels());
            assertEquals("class1", old.classNames().get(1), "no report.json: generic class names");
        }
    }

    private static byte[] png(BufferedImage b) throws Exception {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(b, "png", o));
        return o.toByteArray();
    }

    @Test
    void badAndUnusualImages() throws Exception {
        try (ContaModel m = ContaModel.open(TinyRun.segModel(), "cpu")) {
            // 0 and 100000 px a side
            assertEquals(ContaException.Code.ARGUMENT, assertThrows(ContaException.class, () -> m.segment(new byte[0], 0, 10, null)).code());
            var e = assertThrows(ContaException.class, () -> m.segment(new byte[3 * 100000 * 16], 100000, 16, null));
            assertEquals(ContaException.Code.IMAGE, e.code());
            assertTrue(e.getMessage().contains("100000x16") && e.getMessage().contains("resize"), e.getMessage());
            byte[] wide = png(new BufferedImage(100000, 1, BufferedImage.TYPE_3BYTE_BGR));
            assertEquals(ContaException.Code.IMAGE, assertThrows(ContaException.class, () -> m.segment(wide)).code());
            assertEquals(ContaException.Code.IMAGE, assertThrows(ContaException.class, () -> m.segment(new BufferedImage(100000, 20, BufferedImage.TYPE_BYTE_GRAY))).code());
            byte[] zero = png(new BufferedImage(4, 4, BufferedImage.TYPE_3BYTE_BGR));
            zero[16] = zero[17] = zero[18] = zero[19] = 0; // IHDR width 0
            assertEquals(ContaException.Code.IMAGE, assertThrows(ContaException.class, () -> m.segment(zero)).code());
            assertEquals(ContaException.Code.IMAGE, assertThrows(ContaException.class, () -> m.segment(new byte[]{1, 2, 3})).code());
            byte[] garbled = Files.readAllBytes(Path.of("test-data/jpeg/colour.jpg"));
            for (int i = 0; i < 16; i++) garbled[1200 + i] = (byte) (0x5A ^ i); // corrupt mid-scan, still ending with EOI
            var g = assertThrows(ContaException.class, () -> m.segment(garbled));
            assertEquals(ContaException.Code.IMAGE, g.code());
            assertTrue(g.getMessage().contains("corrupt JPEG data"), g.getMessage());
            assertEquals(ContaException.Code.ARGUMENT, assertThrows(ContaException.class, () -> m.segment(new byte[3 * 64 * 64], 64, 64, new byte[10])).code());
            assertEquals(ContaException.Code.ARGUMENT, assertThrows(ContaException.class, () -> m.segment(new byte[5], 64, 64, null)).code());

            // grey 8-bit and 16-bit PNGs: the same labels as the RGB image with the grey value (16-bit: its high byte) in every channel
            int w = 48, h = 40;
            BufferedImage g8 = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY), g16 = new BufferedImage(w, h, BufferedImage.TYPE_USHORT_GRAY);
            byte[] rgb = new byte[3 * w * h];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    int v = (x * 5 + y * 3) % 256;
                    g8.getRaster().setSample(x, y, 0, v);
                    g16.getRaster().setSample(x, y, 0, v << 8 | 0x7F);
                    rgb[3 * (y * w + x)] = rgb[3 * (y * w + x) + 1] = rgb[3 * (y * w + x) + 2] = (byte) v;
                }
            byte[] ref = m.segment(rgb, w, h, null);
            assertArrayEquals(ref, m.segment(png(g8)).labels(), "grey PNG");
            assertArrayEquals(ref, m.segment(png(g16)).labels(), "16-bit PNG");
            assertArrayEquals(ref, m.segment(g8).labels(), "grey BufferedImage");
            assertArrayEquals(ref, m.segment(g16).labels(), "16-bit BufferedImage");
            // grey+alpha and 16-bit RGB, as ImageIO reads such PNGs (TYPE_CUSTOM): the same pixels OpenCV reads from the
            // file, not getRGB's colour-managed (linear grey -> sRGB) or rounded ones
            for (int bits : new int[]{8, 16}) {
                int type = bits == 8 ? java.awt.image.DataBuffer.TYPE_BYTE : java.awt.image.DataBuffer.TYPE_USHORT;
                var gaModel = new java.awt.image.ComponentColorModel(java.awt.color.ColorSpace.getInstance(java.awt.color.ColorSpace.CS_GRAY),
                        true, false, java.awt.Transparency.TRANSLUCENT, type);
                BufferedImage ga = new BufferedImage(gaModel, gaModel.createCompatibleWritableRaster(w, h), false, null);
                var rgbModel = new java.awt.image.ComponentColorModel(java.awt.color.ColorSpace.getInstance(java.awt.color.ColorSpace.CS_sRGB),
                        false, false, java.awt.Transparency.OPAQUE, type);
                BufferedImage c16 = new BufferedImage(rgbModel, rgbModel.createCompatibleWritableRaster(w, h), false, null);
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) {
                        int v = (x * 5 + y * 3) % 256, s = bits == 8 ? v : v << 8 | 0xFF;
                        ga.getRaster().setSample(x, y, 0, s);
                        ga.getRaster().setSample(x, y, 1, bits == 8 ? 255 : 65535);
                        for (int c = 0; c < 3; c++) c16.getRaster().setSample(x, y, c, s);
                    }
                assertEquals(BufferedImage.TYPE_CUSTOM, ga.getType());
                assertArrayEquals(ref, m.segment(ga).labels(), bits + "-bit grey+alpha BufferedImage");
                assertArrayEquals(ref, m.segment(png(ga)).labels(), bits + "-bit grey+alpha PNG");
                assertArrayEquals(ref, m.segment(c16).labels(), bits + "-bit RGB BufferedImage");
            }
            byte[] p16 = png(g16);
            assertEquals(16, p16[24], "the file really is 16-bit");

            // CMYK JPEG (test-data/deploy/make_cmyk.py): decoded to the RGB PIL gives, within JPEG rounding
            byte[] cmyk = Files.readAllBytes(Path.of("test-data/deploy/cmyk.jpg"));
            RgbImage dec = ImageCodec.decode(cmyk);
            RgbImage pil = ImageCodec.read(Path.of("test-data/deploy/cmyk_reference.png"));
            double diff = 0;
            for (int i = 0; i < dec.rgb().length; i++) diff += Math.abs((dec.rgb()[i] & 0xFF) - (pil.rgb()[i] & 0xFF));
            assertTrue(diff / dec.rgb().length < 4, "CMYK decoded like PIL (mean |diff| " + diff / dec.rgb().length + ")");
            assertArrayEquals(m.segment(dec.rgb(), dec.w(), dec.h(), null), m.segment(cmyk).labels());
        }
    }

    /**
     * An embedding program whose JVM lacks --add-modules jdk.incubator.vector gets one DEVICE error naming the flags,
     * not a NoClassDefFoundError about jdk/incubator/vector/FloatVector (found by a fresh-user walk-through).
     */
    @Test
    void aJvmWithoutTheVectorModuleIsToldTheFlags() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"), OpenWithoutFlags.class.getName(),
                TinyRun.segModel().toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("DEVICE device 'cpu': conta's CPU code needs the Vector API: start the JVM with --add-modules jdk.incubator.vector"), out);
    }

    /**
     * An embedding program with conta's jar but not its libraries (target/lib/*) on the class path gets one error naming
     * them, not a misleading "oneDNN unavailable" warning and then a NoClassDefFoundError (fresh-user probe, README's
     * snippet as it stood).
     */
    @Test
    void aClassPathWithoutTheLibrariesIsToldWhatToAdd() throws Exception {
        Path jvm = Path.of(System.getProperty("java.home"), "bin", "java");
        String own = java.util.Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(e -> e.endsWith("classes") || e.endsWith("test-classes")).collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
        Process p = new ProcessBuilder(jvm.toString(), "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-cp", own,
                OpenWithoutFlags.class.getName(), TinyRun.segModel().toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("INTERNAL conta's libraries are not on the class path (org.bytedeco.javacpp.Pointer is missing): put target/lib/*"), out);
        assertTrue(!out.contains("oneDNN unavailable"), out);
    }

    /**
     * A pooled thread whose interrupt status is set (a cancelled task) stops the bundle's read (FileChannel closes on
     * interrupt): that is the caller's interrupt, kept set, not a "damaged" file to replace. The same file opens after.
     */
    @Test
    void anInterruptedOpenSaysSoAndKeepsTheInterrupt() throws Exception {
        Path seg = TinyRun.segModel();
        ContaException e;
        Thread.currentThread().interrupt();
        try {
            e = assertThrows(ContaException.class, () -> ContaModel.open(seg, "cpu"));
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt status stays set");
        } finally {
            Thread.interrupted();
        }
        assertEquals(ContaException.Code.INTERNAL, e.code(), e.getMessage());
        assertTrue(e.getMessage().contains("interrupted") && !e.getMessage().contains("damaged"), e.getMessage());
        try (ContaModel m = ContaModel.open(seg, "cpu")) {
            assertEquals("seg", m.kind());
        }
    }

    /** What an embedding service gets wrong: each misuse one documented code, a message naming the argument, and no cost. */
    @Test
    void misuseIsRefusedCheaplyWithTheCodeOfItsKind() throws Exception {
        assertEquals(ContaException.Code.ARGUMENT, assertThrows(ContaException.class, () -> ContaModel.open(null, "cpu")).code());
        var e = assertThrows(ContaException.class, () -> ContaModel.open(TinyRun.segModel(), "cpu", "fp16"));
        assertEquals("precision 'fp16' must be fp32, bf16 or auto", e.getMessage());
        try (ContaModel m = ContaModel.open(TinyRun.segModel(), null)) { // null device: the CPU, as NULL in the C ABI
            assertEquals(ContaException.Code.ARGUMENT, assertThrows(ContaException.class, () -> m.segment((byte[]) null)).code());
            int n = m.classNames().size();
            assertEquals(m.colour(n - 1), m.colour(n - 1));
            e = assertThrows(ContaException.class, () -> m.colour(n));
            assertEquals(ContaException.Code.ARGUMENT, e.code());
            assertEquals("class " + n + " out of 0.." + (n - 1), e.getMessage());
            assertEquals(ContaException.Code.ARGUMENT, assertThrows(ContaException.class, () -> m.colour(-1)).code());
            LabelMap map = new LabelMap(3, 2, new byte[]{0, 1, 2, 3, 4, 5});
            assertEquals(5, map.at(2, 1));
            assertEquals("pixel (3, 0) is outside the 3x2 label map", assertThrows(ContaException.class, () -> map.at(3, 0)).getMessage());
            assertEquals(ContaException.Code.ARGUMENT, assertThrows(ContaException.class, () -> map.at(-1, 0)).code());
            // a small file that says 16384 x 16384: refused from its header, before a 768 MB decode
            byte[] bomb = png(new BufferedImage(4, 4, BufferedImage.TYPE_3BYTE_BGR));
            java.nio.ByteBuffer.wrap(bomb, 16, 8).putInt(16384).putInt(16384);
            long t0 = System.nanoTime();
            e = assertThrows(ContaException.class, () -> m.segment(bomb));
            assertEquals(ContaException.Code.IMAGE, e.code());
            assertTrue(e.getMessage().contains("16384x16384"), e.getMessage());
            assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "refused without decoding");
        }
        // a description nested past any real file, or sized past memory: MODEL naming the file, not a JVM error
        Safetensors.Contents c = Safetensors.readAll(TinyRun.segModel());
        Map<String, String> meta = new LinkedHashMap<>(c.metadata());
        meta.put(Bundle.META_KEY, "[".repeat(200_000));
        Path deep = tmp.resolve("deep.safetensors");
        Safetensors.write(deep, c.tensors(), meta);
        e = assertThrows(ContaException.class, () -> ContaModel.open(deep, "cpu"));
        assertEquals(ContaException.Code.MODEL, e.code());
        assertTrue(e.getMessage().contains("deep.safetensors"), e.getMessage());
        meta.put(Bundle.META_KEY, c.metadata().get(Bundle.META_KEY).replaceFirst("\"width\":\\d+", "\"width\":1048576"));
        Path wide = tmp.resolve("wide.safetensors");
        Safetensors.write(wide, c.tensors(), meta);
        e = assertThrows(ContaException.class, () -> ContaModel.open(wide, "cpu"));
        assertEquals(ContaException.Code.MODEL, e.code());
        assertTrue(e.getMessage().contains("wide.safetensors") && e.getMessage().contains("width 1048576"), e.getMessage());
        // the boundary branch's bundle is not one the API runs
        Path irn = tmp.resolve("irn.safetensors");
        assertEquals(0, conta.cli.Main.run(new String[]{"export", "--run", TinyRun.out().toString(), "--stage", "irn", "--out", irn.toString()}));
        e = assertThrows(ContaException.class, () -> ContaModel.open(irn, "cpu"));
        assertEquals(ContaException.Code.MODEL, e.code());
        assertTrue(e.getMessage().contains("boundary branch"), e.getMessage());
    }
}
