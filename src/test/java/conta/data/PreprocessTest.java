package conta.data;

import static org.junit.jupiter.api.Assertions.*;

import conta.config.Config;
import conta.image.RgbImage;
import conta.wsss.Backbones;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Input preprocessing: hand-computed pixels, the augmentation path agreeing with whole-image inference, and auto. */
class PreprocessTest {
    // one row of two pixels: (R,G,B) = (10,20,30) and (200,100,0)
    static final RgbImage IM = new RgbImage(1, 2, new byte[]{10, 20, 30, (byte) 200, 100, 0});

    @Test
    void caffeIsBgrMinusMeanInPixelUnits() {
        float[] x = Preprocess.CAFFE.chw(IM, false);
        // channel 0 = B - 103.939, 1 = G - 116.779, 2 = R - 123.68
        assertArrayEquals(new float[]{30 - 103.939f, 0 - 103.939f, 20 - 116.779f, 100 - 116.779f, 10 - 123.68f, 200 - 123.68f}, x, 1e-4f);
    }

    @Test
    void imagenetIsRgbStandardised() {
        float[] x = Preprocess.IMAGENET.chw(IM, true);
        float r0 = (10 / 255f - 0.485f) / 0.229f, r1 = (200 / 255f - 0.485f) / 0.229f, b1 = (0 - 0.406f) / 0.225f;
        assertEquals(12, x.length);
        assertEquals(r0, x[0], 1e-5);
        assertEquals(r1, x[1], 1e-5);
        assertEquals(b1, x[5], 1e-5);
        // the mirror follows: its first pixel is the original's last
        assertEquals(r1, x[6], 1e-5);
        assertEquals(r0, x[7], 1e-5);
    }

    @Test
    void augmentationWithoutGeometryEqualsWholeImageInput() {
        SplittableRandom r = new SplittableRandom(3);
        byte[] px = new byte[3 * 5 * 7];
        for (int i = 0; i < px.length; i++) px[i] = (byte) r.nextInt(256);
        RgbImage im = new RgbImage(5, 7, px);
        for (Preprocess p : Preprocess.values()) {
            Sample s = Augment.apply(new Item("a", im, null, new int[0]), AugmentSpec.none().withInput(p), new SplittableRandom(0));
            assertArrayEquals(p.chw(im, false), s.image(), 1e-5f, p.name());
        }
    }

    @Test
    void autoFollowsTheWeights() {
        Config c = new Config();
        assertEquals(Preprocess.CAFFE, Backbones.input(c, "cls"), "npm ImageNet ResNet-50 is a Caffe/Keras model");
        c.set("cls.weights", "none");
        assertEquals(Preprocess.IMAGENET, Backbones.input(c, "cls"));
        c.set("irn.weights", "cls");
        assertEquals(Preprocess.IMAGENET, Backbones.input(c, "irn"), "irn.weights=cls follows the classifier");
        c.set("seg.weights", "/some/torchvision.pth");
        assertEquals(Preprocess.IMAGENET, Backbones.input(c, "seg"));
        c.set("seg.input", "caffe");
        assertEquals(Preprocess.CAFFE, Backbones.input(c, "seg"));
        // an unknown preprocessing is refused when it is set (the key table), before any stage could use it
        conta.error.UserError e = assertThrows(conta.error.UserError.class, () -> c.set("seg.input", "bgr"));
        assertTrue(e.getMessage().contains("seg.input = 'bgr'") && e.getMessage().contains("auto | imagenet | caffe | raw"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Preprocess.parse("bgr", "seg.input"));
    }
}
