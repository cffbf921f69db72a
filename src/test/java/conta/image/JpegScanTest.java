package conta.image;

import static org.junit.jupiter.api.Assertions.*;

import conta.data.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * JpegScan against libjpeg's own verdict (test-data/jpeg/make_jpeg_fixtures.py: 240 seeded corruptions of four small
 * JPEGs cropped from a VOC image, each decoded by libjpeg through oracle.c), and on every real JPEG of the shared sample.
 */
class JpegScanTest {
    private static final Path DIR = Path.of("test-data/jpeg");
    private static final Pattern EXTRANEOUS = Pattern.compile("(\\d+) extraneous bytes before marker 0x(\\p{XDigit}+)");

    @TempDir Path tmp;

    @Test
    void cleanFixturesAreWalkedAndPass() throws IOException {
        for (String f : List.of("colour", "restart", "grey", "progressive")) {
            JpegScan.Result r = JpegScan.check(Files.readAllBytes(DIR.resolve(f + ".jpg")));
            assertTrue(r.walked(), f);
            assertNull(r.problem(), f);
        }
    }

    /** Where libjpeg finds a bad code, a premature end or bytes left before a restart marker, so does the walk; where it finds nothing, neither does the walk. */
    @Test
    void agreesWithLibjpegOnCorruptedScans() throws IOException {
        List<String> disagree = new ArrayList<>();
        int flagged = 0, clean = 0;
        for (String line : Files.readAllLines(DIR.resolve("mutations.tsv"))) {
            if (line.startsWith("#")) continue;
            String[] c = line.split("\t", -1);
            byte[] b = Files.readAllBytes(DIR.resolve(c[0] + ".jpg"));
            int at = Integer.parseInt(c[1]), del = Integer.parseInt(c[2]);
            byte[] ins = HexFormat.of().parseHex(c[3]);
            byte[] m = new byte[b.length - del + ins.length];
            System.arraycopy(b, 0, m, 0, at);
            System.arraycopy(ins, 0, m, at, ins.length);
            System.arraycopy(b, at + del, m, at + ins.length, b.length - at - del);
            JpegScan.Result r = JpegScan.check(m);
            String verdict = c[4], msg = c[5];
            Boolean expect; // null: either answer is right
            Matcher x = EXTRANEOUS.matcher(msg);
            if (verdict.equals("clean")) expect = false;
            else if (verdict.equals("fatal")) expect = null;
            else if (msg.contains("bad Huffman code") || msg.contains("premature end of data segment")) expect = true;
            else if (x.find()) {
                int n = Integer.parseInt(x.group(1)), marker = Integer.parseInt(x.group(2), 16);
                // libjpeg's bit buffer may have swallowed up to 8 bytes more than it counts at the end of the image
                // before a restart marker, a few bytes are padding libjpeg's read-ahead drops (often unremarked)
                expect = marker != 0xD9 ? (n > JpegScan.RESTART_SLACK ? Boolean.TRUE : null) : n > JpegScan.TRAILING_SLACK ? Boolean.TRUE
                        : n + 8 < JpegScan.TRAILING_SLACK ? Boolean.FALSE : null;
            } else expect = null;
            if (expect == null) continue;
            if (expect) flagged++; else clean++;
            if (expect != (r.problem() != null)) disagree.add(line.substring(0, Math.min(line.length(), 120)) + " -> " + r);
        }
        assertTrue(disagree.isEmpty(), disagree.size() + " disagreements:\n" + String.join("\n", disagree));
        assertTrue(flagged >= 40 && clean >= 40, "too few cases of each kind: " + flagged + " flagged, " + clean + " clean");
    }

    /**
     * Zero bytes before a restart marker: libjpeg (oracle.c) decodes 1-3 of them before every RST of restart.jpg
     * without a word and pixel-identically (its read-ahead drops them at the marker), so they are padding, not corruption;
     * a dozen are refused.
     */
    @Test
    void aFewBytesBeforeARestartMarkerArePadding() throws IOException {
        byte[] b = Files.readAllBytes(DIR.resolve("restart.jpg"));
        int sos = 0;
        while (!((b[sos] & 0xFF) == 0xFF && (b[sos + 1] & 0xFF) == 0xDA)) sos++;
        List<Integer> rst = new ArrayList<>();
        for (int i = sos; i + 1 < b.length; i++) if ((b[i] & 0xFF) == 0xFF && (b[i + 1] & 0xFF) >= 0xD0 && (b[i + 1] & 0xFF) <= 0xD7) rst.add(i);
        assertTrue(rst.size() >= 4, "restart markers: " + rst.size());
        for (int at : rst.subList(0, 4))
            for (int k : new int[]{1, 2, 3, 12}) {
                byte[] m = new byte[b.length + k];
                System.arraycopy(b, 0, m, 0, at);
                System.arraycopy(b, at, m, at + k, b.length - at);
                JpegScan.Result r = JpegScan.check(m);
                assertTrue(r.walked());
                if (k <= 3) assertNull(r.problem(), k + " bytes before the RST at " + at); // libjpeg: clean
                else assertTrue(r.problem() != null && r.problem().contains("left over before a restart marker"), k + " bytes at " + at + ": " + r);
            }
    }

    @Test
    void everyRealSampleJpegIsWalkedAndPasses() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(SharedData.root())) {
            files = s.filter(p -> p.toString().endsWith(".jpg")).sorted().toList();
        }
        assertTrue(files.size() >= 100, "sample JPEGs: " + files.size());
        for (Path f : files) {
            JpegScan.Result r = JpegScan.check(Files.readAllBytes(f));
            assertTrue(r.walked(), f.toString());
            assertNull(r.problem(), f.toString());
        }
    }

    /** The same photos re-encoded progressive (optimised tables) by OpenCV's libjpeg: walked as progressive, all intact. */
    @Test
    void everyRealSampleJpegReencodedProgressiveIsWalkedAndPasses() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(SharedData.root())) {
            files = s.filter(p -> p.toString().endsWith(".jpg")).sorted().limit(40).toList();
        }
        for (Path f : files) {
            byte[] p = ImageCodec.encodeJpeg(ImageCodec.read(f), 90, true);
            assertTrue(isProgressive(p), f + " re-encoded progressive");
            JpegScan.Result r = JpegScan.check(p);
            assertTrue(r.walked(), f.toString());
            assertNull(r.problem(), f.toString());
        }
    }

    /** Whether the file has an SOF2 (progressive) frame header. */
    private static boolean isProgressive(byte[] b) {
        for (int i = 2; i + 3 < b.length; ) {
            if ((b[i] & 0xFF) != 0xFF) return false;
            int m = b[i + 1] & 0xFF;
            if (m == 0xC2) return true;
            if (m == 0xDA) return false;
            i += 2 + ((b[i + 2] & 0xFF) << 8 | (b[i + 3] & 0xFF));
        }
        return false;
    }

    @Test
    void probeAndDecodeRefuseACorruptScanNamingTheFile() throws IOException {
        byte[] b = Files.readAllBytes(DIR.resolve("colour.jpg"));
        Path f = tmp.resolve("photo.jpg");
        byte[] m = b.clone();
        for (int i = 0; i < 16; i++) m[1200 + i] = (byte) (0x5A ^ i); // bytes overwritten mid-scan; the file still ends with EOI
        Files.write(f, m);
        IOException e = assertThrows(IOException.class, () -> ImageCodec.probe(f));
        assertTrue(e.getMessage().startsWith("image " + f + ": corrupt JPEG data: "), e.getMessage());
        assertTrue(e.getMessage().contains("re-download or re-encode"), e.getMessage());
        IOException d = assertThrows(IOException.class, () -> ImageCodec.read(f));
        assertEquals(e.getMessage(), d.getMessage(), "a decode refuses it in the same words");
        Files.write(f, b);
        assertEquals(160, ImageCodec.probe(f).w());
        assertEquals(120, ImageCodec.read(f).h());
    }

    /**
     * An arithmetic-coded JPEG (colour.jpg re-encoded by libjpeg-turbo's `cjpeg -arithmetic`, as make_jpeg_fixtures.py
     * says) is not walked, and the image reads as libjpeg decodes it: arithmetic.ppm is `djpeg`'s output for the same
     * file. (The walk's other untested coding, 12-bit samples, has no encoder here: libjpeg-turbo 2.1's cjpeg is 8-bit.)
     */
    @Test
    void anArithmeticCodedFileIsNotWalkedAndReadsAsLibjpegDecodesIt() throws IOException {
        Path f = DIR.resolve("arithmetic.jpg");
        JpegScan.Result r = JpegScan.check(Files.readAllBytes(f));
        assertFalse(r.walked());
        assertNull(r.problem());
        byte[] ppm = Files.readAllBytes(DIR.resolve("arithmetic.ppm"));
        String head = new String(ppm, 0, 15, java.nio.charset.StandardCharsets.US_ASCII);
        assertTrue(head.startsWith("P6\n160 120\n255\n"), head);
        RgbImage im = ImageCodec.read(f);
        assertEquals(160, im.w());
        assertEquals(120, im.h());
        int off = "P6\n160 120\n255\n".length(), worst = 0;
        for (int i = 0; i < im.rgb().length; i++) worst = Math.max(worst, Math.abs((im.rgb()[i] & 0xFF) - (ppm[off + i] & 0xFF)));
        assertTrue(worst <= 1, "largest difference from djpeg's pixels: " + worst);
    }
}
