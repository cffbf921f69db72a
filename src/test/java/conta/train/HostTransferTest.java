package conta.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.autograd.Tape;
import conta.models.Models;
import conta.models.Network;
import conta.optim.Sgd;
import conta.tensor.CountingBackend;
import conta.tensor.Tensor;
import conta.tensor.TestBackends;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A training step of the pipeline's frozen-BN networks (resnet50-os16 for CAMs, DeepLab-v2 for segmentation; small
 * widths) moves nothing between host and device but the batch and the loss: per step exactly the image upload, one
 * label upload per output (CE labels resized on the host to each output's size), the loss ops' scalars and one
 * loss.item(), the same at every depth (so nothing per layer: frozen BN folds, crops, loss seeds and gradients stay on
 * the backend). On the backend of -Dconta.test.backend, through CountingBackend.
 */
class HostTransferTest {
    /** {uploads, downloads, scalar reads} of each of three training steps. */
    static List<List<Long>> steps(String arch, int[] blocks, int size, Objective obj, float[] labels, int[] labelShape) {
        CountingBackend cb = new CountingBackend(TestBackends.open());
        float[] img = new float[2 * 3 * size * size];
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < img.length; i++) img[i] = (float) r.nextGaussian();
        List<List<Long>> counts = new ArrayList<>();
        try (Network net = Models.build(arch, new Models.Options(4, blocks, 5, null, null, null, 7L), cb.backend);
             Sgd opt = Sgd.single(net.module().trainableParameters(), 0.9f, 1e-4f)) {
            net.module().train(true);
            for (int s = 0; s < 3; s++) {
                cb.reset();
                opt.zeroGrad();
                try (Tape tape = Tape.open(true); Tensor x = Tensor.of(cb.backend, img, 2, 3, size, size)) {
                    Tensor loss = obj.loss(net.trainOutputs(x), labels, labelShape, null, 255);
                    tape.backward(loss);
                    float v = loss.item();
                    assertTrue(Float.isFinite(v), arch + " loss " + v);
                }
                opt.step(0.01f);
                counts.add(List.of(cb.uploads.get(), cb.downloads.get(), cb.scalarReads.get()));
            }
        } finally {
            cb.backend.close();
        }
        return counts;
    }

    @Test
    void resnet50Os16StepMovesOnlyTheBatchAndTheLoss() {
        float[] multiHot = {1, 0, 0, 1, 0, 0, 1, 1, 0, 0};
        for (int[] blocks : new int[][]{{1, 1, 1, 1}, {1, 2, 3, 1}}) {
            List<List<Long>> c = steps("resnet50-os16", blocks, 64, Objective.BCE, multiHot, new int[]{2, 5});
            // image + labels up; the BCE op's loss value and loss.item() down; the same with the fold cold and cached
            for (List<Long> s : c) assertEquals(List.of(2L, 1L, 1L), s, "resnet50-os16 blocks " + java.util.Arrays.toString(blocks) + ": " + c);
        }
    }

    @Test
    void deeplabV2StepMovesOnlyTheBatchAndTheLoss() {
        float[] labels = new float[2 * 5 * 5];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < labels.length; i++) labels[i] = r.nextInt(6) == 0 ? 255 : r.nextInt(5);
        for (int[] blocks : new int[][]{{1, 1, 1, 1}, {1, 2, 2, 1}}) {
            List<List<Long>> c = steps("deeplabv2-resnet101", blocks, 32, Objective.CE, labels, new int[]{2, 5, 5});
            // four train outputs (logits, 0.5, 0.75, max): image + 4 label maps up, 4 CE values and loss.item() down
            for (List<Long> s : c) assertEquals(List.of(5L, 1L, 4L), s, "deeplab blocks " + java.util.Arrays.toString(blocks) + ": " + c);
        }
    }
}
