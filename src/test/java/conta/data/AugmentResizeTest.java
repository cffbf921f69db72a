package conta.data;

import static org.junit.jupiter.api.Assertions.*;

import conta.image.Mask;
import conta.image.Resampling;
import conta.image.RgbImage;
import conta.io.HostArray;
import conta.io.Npy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Augment's rescale is IRNet's random_scale((img, label), order=(3, 0)): Pillow BICUBIC for the photo, NEAREST for the
 * label, size int(np.round(n * s)). Reference: Pillow's own outputs in test-data/pil/pil_resize.npz.
 */
class AugmentResizeTest {
    static Map<String, HostArray> fx;

    @BeforeAll
    static void load() throws IOException {
        fx = Npy.readNpz(Path.of("test-data/pil/pil_resize.npz"));
    }

    static byte[] bytes(HostArray a) {
        byte[] b = new byte[a.data().length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (int) a.data()[i];
        return b;
    }

    /** A fixed scale s (scale range s..s), RAW input, no flip or crop: the sample is Pillow's resize, channel-planar. */
    static void check(String src, double s, String tag, Resampling r, boolean exact) {
        HostArray im = fx.get("src_rgb_" + src), lb = fx.get("src_lbl_" + src);
        int h = im.shape()[0], w = im.shape()[1];
        Item it = new Item("x", new RgbImage(h, w, bytes(im)), new Mask(h, w, bytes(lb)), new int[]{1});
        AugmentSpec spec = new AugmentSpec(0, 0, s, s, false, 0, 0, 0, 0, Preprocess.RAW, 0, AugmentSpec.CropMode.TOP_LEFT).withResampling(r);
        Sample out = Augment.apply(it, spec, new SplittableRandom(1));
        HostArray want = fx.get("bic_" + src + "_" + tag), wantM = fx.get("nn_" + src + "_" + tag);
        assertEquals(want.shape()[0], out.h());
        assertEquals(want.shape()[1], out.w());
        int plane = out.h() * out.w(), diff = 0;
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < 3; c++) if (out.image()[c * plane + p] != want.data()[3 * p + c]) diff++;
        int mdiff = 0;
        for (int p = 0; p < plane; p++) if ((out.mask()[p] & 0xFF) != (int) wantM.data()[p]) mdiff++;
        if (exact) {
            assertEquals(0, diff, src + " " + tag + " image values differing from Pillow");
            assertEquals(0, mdiff, src + " " + tag + " label pixels differing from Pillow");
        } else {
            assertTrue(diff > 0, src + " " + tag + ": OpenCV resizing should not equal Pillow's");
        }
    }

    @Test
    void pilResamplingIsPillowExactly() {
        for (String src : new String[]{"A", "B"})
            for (double s : new double[]{0.5, 0.75, 0.3, 1.5, 2.0}) check(src, s, String.format("s%03d", Math.round(s * 100)), Resampling.PIL, true);
    }

    @Test
    void opencvResamplingRemainsAvailableAndDiffers() {
        check("A", 0.5, "s050", Resampling.OPENCV, false);
        check("A", 1.5, "s150", Resampling.OPENCV, false);
    }

    @Test
    void defaultSpecsUsePil() {
        assertEquals(Resampling.PIL, AugmentSpec.irnCam(512).resampling());
        assertEquals(Resampling.PIL, AugmentSpec.deeplab(321).withCrop(0, AugmentSpec.CropMode.CENTER).resampling());
        assertEquals(Resampling.OPENCV, Resampling.parse("OpenCV", "data.resize"));
        var e = assertThrows(conta.error.UserError.class, () -> Resampling.parse("lanczos", "data.resize"));
        assertTrue(e.getMessage().contains("data.resize"), e.getMessage());
    }
}
