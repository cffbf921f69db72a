package conta.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.autograd.Tape;
import conta.infer.InferencePlan;
import conta.infer.Precision;
import conta.io.HostArray;
import conta.io.Npy;
import conta.models.Models;
import conta.models.Network;
import conta.models.ResNetConfig;
import conta.models.ResNet;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * InferencePlan on every PyTorch fixture of ModelParityTest (resnet18/50, os16 CAM net, Caffe/MSRA, dilated os8,
 * DeepLab-v2 with ASPP and MSC at two sizes): the plan's output against (a) conta's training-graph eval forward,
 * per element within 1e-5 relative (atol = 1e-5 x max|ref|, rtol = 1e-5), and (b) PyTorch's eval output within
 * ModelParityTest's 1e-4; bf16 plans against the fp32 plan within bfloat16 rounding.
 */
class InferencePlanParityTest {
    static final double TOL = 1e-5;
    final Backend b = new CpuBackend();

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> cases() throws Exception { return ModelParityTest.cases(); }

    /** Training-graph eval forward. */
    static float[] graphForward(Network net, Backend b, HostArray x) {
        net.module().train(false);
        try (Tape t = Tape.open(false); Tensor in = Tensor.of(b, x.data(), x.shape())) {
            return net.forward(in).toArray();
        }
    }

    /** max_i |got - want| / (atol + rtol |want_i|) with atol = tol max|want|, rtol = tol: <= 1 passes. */
    static double worst(float[] got, float[] want, double tol) {
        assertEquals(want.length, got.length, "output length");
        double scale = ModelParityTest.maxAbs(want), w = 0;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs((double) got[i] - want[i]);
            w = Math.max(w, d / (tol * scale + tol * Math.abs(want[i])));
        }
        return w;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTrainingGraphAndPyTorch(String name, Map<String, Object> c) throws Exception {
        HostArray x = Npy.read(ModelParityTest.dir(c).resolve((String) c.get("input")));
        HostArray torch = Npy.read(ModelParityTest.dir(c).resolve((String) c.get("eval_out")));
        try (Network net = ModelParityTest.build(c, b, true)) {
            float[] ref = graphForward(net, b, x);
            try (InferencePlan plan = InferencePlan.compile(net, x.shape())) {
                assertArrayEquals(torch.shape(), plan.outputShape(), name + " output shape");
                float[] got = plan.run(x.data());
                double w = worst(got, ref, TOL);
                assertTrue(w <= 1, name + ": plan vs training graph " + w + " x the 1e-5 tolerance");
                double e = ModelParityTest.relErr(got, torch.data());
                assertTrue(e <= ModelParityTest.TOL, name + ": plan vs PyTorch relative error " + e);
                // a second run over the same buffers gives the same bits (no state carried between calls)
                float[] again = new float[got.length];
                plan.run(x.data(), again);
                assertArrayEquals(got, again, name + " second run");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void bf16WithinBfloat16Rounding(String name, Map<String, Object> c) throws Exception {
        HostArray x = Npy.read(ModelParityTest.dir(c).resolve((String) c.get("input")));
        try (Network net = ModelParityTest.build(c, b, true);
             InferencePlan fp = InferencePlan.compile(net, x.shape());
             InferencePlan bf = InferencePlan.compile(net, Precision.BF16, x.shape())) {
            assertEquals(Precision.BF16, bf.precision());
            float[] want = fp.run(x.data()), got = bf.run(x.data());
            double e = ModelParityTest.relErr(got, want);
            // bf16 keeps 8 significant bits (relative rounding 2^-9 ~ 0.2% per value); over ~20 rounded layers of
            // these small nets the output error stays within 3% of the largest logit (0.3-1.5% measured), and must not be zero
            // (which would mean fp32 ran)
            assertTrue(e <= 3e-2, name + ": bf16 vs fp32 relative error " + e);
            assertTrue(e > 1e-6, name + ": bf16 plan gave fp32 results (" + e + ")");
        }
    }

    @Test
    void rejectsWrongSizesAndContextNetworks() {
        Models.Options o = new Models.Options(4, new int[]{1, 1, 1, 1}, 3, null, null, null, 1L);
        try (Network net = Models.build("resnet18", o, b); InferencePlan plan = InferencePlan.compile(net, 1, 3, 32, 32)) {
            assertArrayEquals(new int[]{1, 3}, plan.outputShape());
            assertThrows(IllegalArgumentException.class, () -> plan.run(new float[3 * 32 * 31], new float[3]));
            assertThrows(IllegalArgumentException.class, () -> plan.run(new float[3 * 32 * 32], new float[4]));
        }
        ResNetConfig cfg = Models.resnetConfig("resnet18").withWidth(4).withBlocks(new int[]{1, 1, 1, 1}).withContext(2, 3);
        try (ResNet net = new ResNet(b, cfg)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> InferencePlan.compile(net, 1, 3, 32, 32));
            assertTrue(e.getMessage().contains("context"), e.getMessage());
        }
    }

    @Test
    void batchOfImagesEqualsImagesOneByOne() {
        Models.Options o = new Models.Options(8, new int[]{1, 1, 1, 1}, 5, null, null, null, 3L);
        try (Network net = Models.build("resnet50", o, b);
             InferencePlan two = InferencePlan.compile(net, 2, 3, 48, 40);
             InferencePlan one = InferencePlan.compile(net, 1, 3, 48, 40)) {
            float[] x = new float[2 * 3 * 48 * 40];
            SplittableRandom r = new SplittableRandom(5);
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            float[] both = two.run(x);
            float[] a = one.run(java.util.Arrays.copyOfRange(x, 0, x.length / 2)), c = one.run(java.util.Arrays.copyOfRange(x, x.length / 2, x.length));
            float[] joined = new float[10];
            System.arraycopy(a, 0, joined, 0, 5);
            System.arraycopy(c, 0, joined, 5, 5);
            assertTrue(worst(both, joined, TOL) <= 1, "batch of two vs one by one");
        }
    }
}
