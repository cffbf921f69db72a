package conta.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `conta predict` refuses inputs that would lose the user's files or its own outputs, before anything is computed
 * (exit 2, one line naming the flag and the files), and treats an image too large to decode as one bad item.
 */
class PredictInputsTest {
    @TempDir static Path tmp;
    static Path bundle;

    /** A real segmentation bundle (the width-4 DeepLab-v2 fixture), so that a refusal is the refusal, not a bad model. */
    @BeforeAll
    static void exportBundle() throws Exception {
        @SuppressWarnings("unchecked")
        Map<String, Object> c = (Map<String, Object>) ModelParityTest.cases().filter(a -> a.get()[0].equals("deeplab_w4_160")).findFirst()
                .orElseThrow().get()[1];
        bundle = tmp.resolve("seg.safetensors");
        ModelCommandErrorsTest.Result r = run("export", "--arch", "deeplabv2-resnet101", "--width", "4", "--blocks", "1,1,1,1", "--classes", "5",
                "--weights", ModelParityTest.dir(c).resolve("init.pth").toString(), "--input", "raw", "--out", bundle.toString());
        assertEquals(0, r.code(), r.err());
    }

    static ModelCommandErrorsTest.Result run(String... argv) { return ModelCommandErrorsTest.run(argv); }

    static ModelCommandErrorsTest.Result predict(String... argv) {
        String[] a = new String[argv.length + 5];
        a[0] = "predict";
        a[1] = "--model";
        a[2] = bundle.toString();
        a[3] = "--device";
        a[4] = "cpu";
        System.arraycopy(argv, 0, a, 5, argv.length);
        return run(a);
    }

    /** A 32 x 32 RGB image as PNG or JPEG bytes. */
    static byte[] image(String format, int seed) throws Exception {
        BufferedImage im = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 32; y++) for (int x = 0; x < 32; x++) im.setRGB(x, y, (x * 7 + y * 13 + seed * 31) * 0x010203 & 0xFFFFFF);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(im, format, b));
        return b.toByteArray();
    }

    /** A complete PNG whose header claims w x h pixels (the data is a few bytes: OpenCV asserts on the size before reading it). */
    static byte[] pngClaiming(int w, int h) {
        ByteBuffer b = ByteBuffer.allocate(8 + 25 + 12 + 12 + 2);
        b.put(new byte[]{(byte) 137, 'P', 'N', 'G', 13, 10, 26, 10});
        chunk(b, "IHDR", ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0).array());
        chunk(b, "IDAT", new byte[]{0x78, 0x01});
        chunk(b, "IEND", new byte[0]);
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    private static void chunk(ByteBuffer b, String type, byte[] data) {
        b.putInt(data.length);
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        b.put(t).put(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        b.putInt((int) crc.getValue());
    }

    static void refused(ModelCommandErrorsTest.Result r, String... mustContain) {
        ErrorContractTest.userError(r, mustContain);
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    }

    @Test
    void outIsTheImagesFolderOrWouldOverwriteAnInput() throws Exception {
        Path imgs = tmp.resolve("pngs");
        Files.createDirectories(imgs);
        byte[] p1 = image("png", 1), p2 = image("png", 2);
        Files.write(imgs.resolve("p1.png"), p1);
        Files.write(imgs.resolve("p2.png"), p2);
        refused(predict("--images", imgs.toString(), "--out", imgs.toString()), "--out " + imgs, "--images folder", "choose another --out");
        refused(predict("--images", imgs.toString(), "--out", imgs + "/./"), "--out", "--images folder"); // the same folder spelled otherwise
        refused(predict("--images", imgs.resolve("p1.png").toString(), "--out", imgs.toString()), "would overwrite the input image",
                imgs.resolve("p1.png").toString());
        assertArrayEquals(p1, Files.readAllBytes(imgs.resolve("p1.png")), "the input image is untouched");
        assertArrayEquals(p2, Files.readAllBytes(imgs.resolve("p2.png")));
        try (var s = Files.list(imgs)) {
            assertEquals(2, s.count(), "nothing written beside the inputs");
        }
        // the same images into another folder work
        ModelCommandErrorsTest.Result ok = predict("--images", imgs.toString(), "--out", tmp.resolve("pngs-out").toString());
        assertEquals(0, ok.code(), ok.err());
        assertTrue(Files.isRegularFile(tmp.resolve("pngs-out/p1.png")) && Files.isRegularFile(tmp.resolve("pngs-out/p2.png")));
    }

    @Test
    void twoImagesWithOneOutputNameAreRefusedNamingBoth() throws Exception {
        Path coll = tmp.resolve("coll"), sub1 = tmp.resolve("sub1"), sub2 = tmp.resolve("sub2"), out = tmp.resolve("pcoll");
        for (Path d : new Path[]{coll, sub1, sub2}) Files.createDirectories(d);
        Files.write(coll.resolve("a.jpg"), image("jpg", 1));
        Files.write(coll.resolve("a.png"), image("png", 2));
        Files.write(sub1.resolve("a.jpg"), image("jpg", 3));
        Files.write(sub2.resolve("a.jpg"), image("jpg", 4));
        refused(predict("--images", coll.toString(), "--out", out.toString()), coll.resolve("a.jpg").toString(), coll.resolve("a.png").toString(),
                "would both write a.png");
        refused(predict("--images", sub1.toString(), sub2.toString(), "--out", out.toString()), sub1.resolve("a.jpg").toString(),
                sub2.resolve("a.jpg").toString(), "would both write a.png");
        // --overlay's ID_overlay.png is an output name too
        Path ov = tmp.resolve("ov");
        Files.createDirectories(ov);
        Files.write(ov.resolve("x.jpg"), image("jpg", 5));
        Files.write(ov.resolve("x_overlay.jpg"), image("jpg", 6));
        refused(predict("--images", ov.toString(), "--out", out.toString(), "--overlay"), "would both write x_overlay.png");
        assertFalse(Files.exists(out), "refused before anything is computed or created");
        // one file named twice (itself and its folder) is one image, not a collision
        ModelCommandErrorsTest.Result r = predict("--images", sub1.toString(), sub1.resolve("a.jpg").toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("wrote 1 label map to"), r.err());
        // two names linked to one file are two images, each with its own label map
        Path farm = tmp.resolve("farm"), farmOut = tmp.resolve("pfarm");
        Files.createDirectories(farm);
        Files.write(farm.resolve("a.jpg"), image("jpg", 7));
        Files.createSymbolicLink(farm.resolve("b.jpg"), farm.resolve("a.jpg"));
        r = predict("--images", farm.toString(), "--out", farmOut.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(farmOut.resolve("a.png")) && Files.isRegularFile(farmOut.resolve("b.png")), r.err());
    }

    /**
     * An overlay that cannot be written (a folder in its place) is one line naming it, exit 2, as a label map is; it
     * was an internal error after ImageIO's stack trace. --round with a bundle file is refused, not ignored.
     */
    @Test
    void anUnwritableOverlayAndRoundWithABundleAreUserErrors() throws Exception {
        Path in = tmp.resolve("ov-in"), out = tmp.resolve("ov-out");
        Files.createDirectories(in);
        Files.write(in.resolve("a.png"), image("png", 3));
        Files.createDirectories(out.resolve("a_overlay.png").resolve("inner"));
        var r = predict("--images", in.toString(), "--out", out.toString(), "--overlay");
        ErrorContractTest.userError(r, "a_overlay.png", "is a folder"); // after the progress bar's first line: no stack trace
        assertTrue(r.err().strip().lines().allMatch(l -> l.startsWith("predict ") || l.startsWith("conta predict: ")), r.err());
        refused(predict("--images", in.toString(), "--out", tmp.resolve("ov-round").toString(), "--round", "2"), "--round 2", bundle.toString(),
                "leave out --round");
    }

    @Test
    void outIsAFile() throws Exception {
        Path imgs = tmp.resolve("one"), f = tmp.resolve("afile");
        Files.createDirectories(imgs);
        Files.write(imgs.resolve("a.png"), image("png", 1));
        Files.writeString(f, "keep me");
        refused(predict("--images", imgs.toString(), "--out", f.toString()), "--out " + f + " is a file, not a folder");
        assertEquals("keep me", Files.readString(f));
    }

    /** A model refused at open leaves no empty --out folder behind (it was made before the model was read). */
    @Test
    void aRefusedModelLeavesNoOutFolder() throws Exception {
        Path imgs = tmp.resolve("one-text"), notes = tmp.resolve("notes.safetensors"), out = tmp.resolve("never");
        Files.createDirectories(imgs);
        Files.write(imgs.resolve("a.png"), image("png", 1));
        Files.writeString(notes, "hello, this is a text file\n");
        refused(run("predict", "--model", notes.toString(), "--images", imgs.toString(), "--out", out.toString(), "--device", "cpu"),
                notes + " is not a conta model (it is text, beginning \"hello, t\"); give a run folder or the .safetensors that `conta export` writes");
        assertFalse(Files.exists(out), "no --out folder for a refused model");
    }

    @Test
    void anOnnxModelIsNamedAsSuch() throws Exception {
        Path imgs = tmp.resolve("one-onnx");
        Files.createDirectories(imgs);
        Files.write(imgs.resolve("a.png"), image("png", 1));
        Path onnx = tmp.resolve("seg.onnx"), renamed = tmp.resolve("model.bin");
        // a ModelProto's start as conta's ONNX export writes it: ir_version 8, producer_name "conta", producer_version
        byte[] proto = {0x08, 0x08, 0x12, 0x05, 'c', 'o', 'n', 't', 'a', 0x1a, 0x03, '0', '.', '1', 0x3a, 0x00};
        Files.write(onnx, proto);
        Files.write(renamed, proto);
        for (Path m : new Path[]{onnx, renamed}) {
            ModelCommandErrorsTest.Result r = run("predict", "--model", m.toString(), "--images", imgs.toString(), "--out", tmp.resolve("o").toString());
            refused(r, "--model " + m, "ONNX model", "bundle (conta export", "run folder");
        }
    }

    @Test
    void anImageTooLargeToDecodeIsABadItem() throws Exception {
        Path imgs = tmp.resolve("huge");
        Files.createDirectories(imgs);
        Files.write(imgs.resolve("good.png"), image("png", 1));
        Path huge = imgs.resolve("huge.png");
        Files.write(huge, pngClaiming(100000, 100000));
        // the progress bar may precede the error: the error is the last line
        ErrorContractTest.userError(predict("--images", imgs.toString(), "--out", tmp.resolve("h1").toString()), huge.toString(), "100000x100000", "537 million pixels", "--skip-bad");
        ModelCommandErrorsTest.Result r = predict("--images", imgs.toString(), "--out", tmp.resolve("h2").toString(), "--skip-bad");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("wrote 1 label map to") && r.err().contains("skipped 1") && r.err().contains(huge + ": it is 100000x100000 px"), r.err());
        assertTrue(Files.isRegularFile(tmp.resolve("h2/good.png")));
        assertFalse(Files.exists(tmp.resolve("h2/huge.png")));
        // under the decoding limit but over the networks': named from the header, before decoding
        Files.write(huge, pngClaiming(20000, 20000));
        ErrorContractTest.userError(predict("--images", huge.toString(), "--out", tmp.resolve("h3").toString()), huge.toString(), "20000x20000", "8192 px a side");
    }

    @Test
    void theSameImageInADatasetIsADataErrorNamingIt() throws Exception {
        Path d = tmp.resolve("synth-huge");
        Path img = ErrorContractTest.synthWithFirstImage(d, pngClaiming(100000, 100000));
        ErrorContractTest.userError(run("pipeline", "--data", d.toString(), "--out", tmp.resolve("p-huge").toString()), img.toString(), "100000x100000");
        java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> conta.image.ImageCodec.read(img));
        assertTrue(e.getMessage().contains(img.toString()) && e.getMessage().contains("537 million pixels"), e.getMessage());
    }
}
