package conta.onnx;

import static conta.onnx.OrtCheck.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnxruntime.OrtSession;
import conta.autograd.F;
import conta.autograd.Tape;
import conta.data.Preprocess;
import conta.data.SharedData;
import conta.image.ImageCodec;
import conta.image.RgbImage;
import conta.io.WeightFiles;
import conta.models.Models;
import conta.models.Network;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The full-size ImageNet ResNet-50 (npm weights, MSRA/Caffe layout: conv biases, eps 1e-3) exported and run by ONNX
 * Runtime on a real VOC photo at its own size: logits within 1e-4 relative of conta's, and the same ImageNet class
 * that ImagenetResNet50Test checks (444) on the 224 x 224 resize.
 */
class OnnxImagenetResNet50Test {
    @TempDir Path dir;

    @Test
    void realPhotoThroughOrtMatchesConta() throws Exception {
        Path jpg = SharedData.voc().resolve("JPEGImages/2007_000129.jpg");
        Path weights = conta.data.SharedData.imagenetResNet50();
        Backend b = new CpuBackend();
        RgbImage im = ImageCodec.read(jpg);
        float[] full = Preprocess.CAFFE.chw(im, false), small, expectedFull, expectedSmall;
        long t00 = System.nanoTime();
        try (Network net = Models.build("resnet50-caffe", Models.Options.none(), b)) {
            net.module().loadState(WeightFiles.load(weights), true);
            net.module().train(false);
            System.out.printf("build+load %.1f s%n", (System.nanoTime() - t00) / 1e9);
            try (Tape t = Tape.open(false)) {
                Tensor x = Tape.track(Tensor.of(b, full, 1, 3, im.h(), im.w()));
                expectedFull = net.forward(x).toArray();
                Tensor x224 = F.resizeBilinear(x, 224, 224, false);
                small = x224.toArray();
                expectedSmall = net.forward(x224).toArray();
            }
            Path f = dir.resolve("resnet50.onnx");
            long t0 = System.nanoTime();
            OnnxExporter.export(net, f, Map.of("conta.arch", "resnet50-caffe"));
            System.out.printf("export %.1f s%n", (System.nanoTime() - t0) / 1e9);
            t0 = System.nanoTime();
            try (OrtSession s = OrtCheck.open(f)) {
                System.out.printf("ORT load %.1f s%n", (System.nanoTime() - t0) / 1e9);
                float[] got = OrtCheck.run(s, Map.of("image", new long[]{1, 3, im.h(), im.w()}), Map.of("image", full)).get("logits");
                assertClose(expectedFull, got, "ImageNet ResNet-50 logits at " + im.h() + "x" + im.w());
                assertEquals(top1(expectedFull), top1(got), "top-1 at full size");
                float[] got224 = OrtCheck.run(s, Map.of("image", new long[]{1, 3, 224, 224}), Map.of("image", small)).get("logits");
                assertClose(expectedSmall, got224, "ImageNet ResNet-50 logits at 224x224");
                assertEquals(444, top1(got224), "ORT's ImageNet class of 2007_000129 at 224 x 224");
            }
        }
    }

    private static int top1(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
