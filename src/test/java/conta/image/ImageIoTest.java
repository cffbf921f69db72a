package conta.image;

import static org.junit.jupiter.api.Assertions.*;

import conta.data.SharedData;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageIoTest {
    @TempDir Path tmp;

    @Test
    void vocPaletteColours() {
        assertEquals(0x000000, Palette.vocRgb(0));
        assertEquals(0x800000, Palette.vocRgb(1));
        assertEquals(0x008000, Palette.vocRgb(2));
        assertEquals(0xC08080, Palette.vocRgb(15));
        assertEquals(0xE0E0C0, Palette.vocRgb(255));
        assertEquals(21, Palette.VOC_CLASSES.size());
    }

    @Test
    void realVocMaskReadsRawIndices() throws IOException {
        Mask m = IndexPng.read(SharedData.voc().resolve("SegmentationClass/2007_000032.png"));
        assertEquals(500, m.w());
        assertEquals(281, m.h());
        long[] h = m.histogram();
        assertEquals(129545, h[0]);
        assertEquals(4734, h[1]);
        assertEquals(866, h[15]);
        assertEquals(5355, h[255]);
        assertEquals(500L * 281, h[0] + h[1] + h[15] + h[255]);
        assertArrayEquals(new int[]{1, 15}, m.classesPresent(20));
    }

    @Test
    void ownDecoderAgreesWithImageIO() throws IOException {
        Path f = SharedData.voc().resolve("SegmentationClass/2007_000033.png");
        Mask m = IndexPng.read(f);
        BufferedImage bi = ImageIO.read(f.toFile());
        assertInstanceOf(IndexColorModel.class, bi.getColorModel());
        for (int y = 0; y < m.h(); y += 7)
            for (int x = 0; x < m.w(); x += 5) assertEquals(bi.getRaster().getSample(x, y, 0), m.at(y, x));
    }

    @Test
    void palettePngRoundTripsThroughOwnDecoderAndImageIO() throws IOException {
        Random r = new Random(1);
        byte[] d = new byte[37 * 53];
        for (int i = 0; i < d.length; i++) d[i] = (byte) (r.nextInt(10) == 0 ? 255 : r.nextInt(21));
        Mask m = new Mask(37, 53, d);
        Path f = tmp.resolve("sub/m.png");
        IndexPng.write(f, m);
        assertArrayEquals(d, IndexPng.read(f).data());
        BufferedImage bi = ImageIO.read(f.toFile());
        IndexColorModel cm = (IndexColorModel) bi.getColorModel();
        assertEquals(256, cm.getMapSize());
        assertEquals(0x800000, cm.getRGB(1) & 0xFFFFFF);
        for (int y = 0; y < 37; y++)
            for (int x = 0; x < 53; x++) assertEquals(d[y * 53 + x] & 0xFF, bi.getRaster().getSample(x, y, 0));
        assertArrayEquals(IndexPng.encode(m), Files.readAllBytes(f), "deterministic bytes");
    }

    @Test
    void palettePngReadByPil() throws Exception {
        ProcessBuilder probe = new ProcessBuilder("/usr/bin/python3", "-c", "import PIL");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3"))
                && probe.start().waitFor() == 0, "PIL not available");
        byte[] d = new byte[6 * 4];
        for (int i = 0; i < d.length; i++) d[i] = (byte) (i == 5 ? 255 : i % 21);
        Path f = tmp.resolve("p.png");
        IndexPng.write(f, new Mask(4, 6, d));
        Process p = new ProcessBuilder("/usr/bin/python3", "-c",
                "import sys; from PIL import Image; im=Image.open(sys.argv[1]); print(im.mode, list(im.getdata()))", f.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertEquals(0, p.waitFor(), out);
        int[] expect = new int[d.length];
        for (int i = 0; i < d.length; i++) expect[i] = d[i] & 0xFF;
        assertEquals("P " + Arrays.toString(expect), out);
    }

    @Test
    void greyAndRgbMasksViaFallback() throws IOException {
        BufferedImage g = new BufferedImage(3, 2, BufferedImage.TYPE_BYTE_GRAY);
        g.getRaster().setSample(1, 1, 0, 7);
        g.getRaster().setSample(2, 0, 0, 255);
        Path f = tmp.resolve("g.png");
        ImageIO.write(g, "png", f.toFile());
        Mask m = IndexPng.read(f);
        assertEquals(7, m.at(1, 1));
        assertEquals(255, m.at(0, 2));
        BufferedImage c = new BufferedImage(2, 1, BufferedImage.TYPE_INT_RGB);
        c.setRGB(1, 0, Palette.vocRgb(15));
        Path fc = tmp.resolve("c.png");
        ImageIO.write(c, "png", fc.toFile());
        Mask mc = IndexPng.read(fc);
        assertEquals(0, mc.at(0, 0));
        assertEquals(15, mc.at(0, 1));
    }

    @Test
    void truncatedFilesAreRefusedWithTheirName() throws IOException {
        byte[] jpg = Files.readAllBytes(SharedData.voc().resolve("JPEGImages/2007_000032.jpg"));
        Path bad = tmp.resolve("cut.jpg");
        Files.write(bad, Arrays.copyOf(jpg, jpg.length / 2));
        IOException e = assertThrows(IOException.class, () -> ImageCodec.read(bad));
        assertTrue(e.getMessage().contains("cut.jpg") && e.getMessage().contains("truncated"), e.getMessage());
        byte[] png = IndexPng.encode(new Mask(10, 10, new byte[100]));
        Path badPng = tmp.resolve("cut.png");
        Files.write(badPng, Arrays.copyOf(png, png.length - 20));
        e = assertThrows(IOException.class, () -> IndexPng.read(badPng));
        assertTrue(e.getMessage().contains("cut.png"), e.getMessage());
        e = assertThrows(IOException.class, () -> ImageCodec.read(tmp.resolve("none.jpg")));
        assertTrue(e.getMessage().contains("none.jpg") && e.getMessage().contains("does not exist"));
    }

    @Test
    void decodeProbeAndResizeRealJpeg() throws IOException {
        Path f = SharedData.voc().resolve("JPEGImages/2007_000032.jpg");
        RgbImage im = ImageCodec.read(f);
        assertEquals(500, im.w());
        assertEquals(281, im.h());
        assertEquals(new ImageCodec.Dims(500, 281), ImageCodec.probe(f));
        // matches ImageIO's decoder to within JPEG IDCT rounding
        BufferedImage bi = ImageIO.read(f.toFile());
        double diff = 0;
        for (int y = 0; y < 281; y += 10)
            for (int x = 0; x < 500; x += 10) {
                int rgb = bi.getRGB(x, y);
                diff += Math.abs(((rgb >> 16) & 0xFF) - im.at(y, x, 0)) + Math.abs(((rgb >> 8) & 0xFF) - im.at(y, x, 1))
                        + Math.abs((rgb & 0xFF) - im.at(y, x, 2));
            }
        assertTrue(diff / (29 * 50 * 3) < 3, "mean abs diff " + diff);
        RgbImage small = ImageCodec.resize(im, 100, 200, ImageCodec.Interp.AREA);
        assertEquals(100, small.h());
        assertEquals(200, small.w());
        byte[] jpg = ImageCodec.encodeJpeg(small, 95);
        assertArrayEquals(jpg, ImageCodec.encodeJpeg(small, 95));
        RgbImage back = ImageCodec.decode(jpg);
        assertEquals(200, back.w());
    }

    @Test
    void nearestMaskResizeKeepsLabels() {
        Mask m = new Mask(2, 2, new byte[]{1, 2, 3, (byte) 255});
        Mask r = ImageCodec.resize(m, 4, 4);
        assertEquals(1, r.at(0, 0));
        assertEquals(2, r.at(1, 3));
        assertEquals(3, r.at(3, 0));
        assertEquals(255, r.at(3, 3));
    }


    /** A BMP cut short is caught by the header-only probe (the data check before a run), as JPEG and PNG are. */
    @Test
    void aTruncatedBmpIsRefusedByTheProbe() throws Exception {
        BufferedImage b = new BufferedImage(37, 21, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 21; y++) for (int x = 0; x < 37; x++) b.setRGB(x, y, x * 7 << 16 | y * 11 << 8 | 5);
        Path f = tmp.resolve("a.bmp");
        assertTrue(ImageIO.write(b, "bmp", f.toFile()));
        assertEquals(new ImageCodec.Dims(37, 21), ImageCodec.probe(f));
        RgbImage full = ImageCodec.read(f);
        assertEquals((5 & 0xFF), full.rgb()[2] & 0xFF, "decoded: blue of pixel (0, 0)");
        byte[] all = Files.readAllBytes(f);
        Path cut = tmp.resolve("cut.bmp");
        Files.write(cut, Arrays.copyOf(all, all.length - 40));
        IOException e = assertThrows(IOException.class, () -> ImageCodec.probe(cut));
        assertTrue(e.getMessage().contains("cut.bmp") && e.getMessage().contains("truncated BMP"), e.getMessage());
    }
}
