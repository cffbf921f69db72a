package conta.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.autograd.Tape;
import conta.io.HostArray;
import conta.io.Npy;
import conta.nn.Module;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Full-size torchvision ResNet-50/101 against PyTorch without shipping 100 MB of weights: both sides fill the
 * state_dict from the same splitmix64 formula (test-data/make_fixtures.py) and compare eval logits.
 */
class FormulaResNetTest {
    static long splitmix64(long x) {
        long z = x + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static double u(long k, long i) { return (splitmix64((k << 32) + i) >>> 40) / (double) (1 << 24); }

    /** Every parameter and buffer of m set by the manifest's formula, in state order (what the PyTorch twin does). */
    static void fill(Module m, Backend b) {
        long k = 0;
        for (Map.Entry<String, Tensor> e : m.state().entrySet())
            b.upload(e.getValue(), values(k++, m.externalName(e.getKey()), e.getValue().shape()));
    }

    static float[] values(long k, String name, int[] shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] v = new float[n];
        int fanIn = shape.length == 4 ? shape[1] * shape[2] * shape[3] : shape.length == 2 ? shape[1] : 0;
        for (int i = 0; i < n; i++) {
            double x = u(k, i);
            double r;
            if (name.equals("fc.bias")) r = 0.1 * (2 * x - 1);
            else if (shape.length >= 2) r = (2 * x - 1) * Math.sqrt(3.0 / fanIn);
            else if (name.endsWith("running_var")) r = 0.5 + x;
            else if (name.endsWith("running_mean")) r = 0.2 * (2 * x - 1);
            else if (name.endsWith("weight")) r = 0.5 + 0.5 * x;
            else r = 0.2 * (2 * x - 1);
            v[i] = (float) r;
        }
        return v;
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet50", "resnet101"})
    void logitsMatchPyTorch(String arch) throws Exception {
        assertEquals(Long.parseUnsignedLong("16294208416658607535"), splitmix64(0)); // value in the manifest
        Path dir = Path.of("test-data/fixtures/" + arch + "_formula");
        Backend b = new CpuBackend();
        try (Network net = Models.build(arch, Models.Options.none(), b)) {
            Module m = net.module();
            fill(m, b);
            m.train(false);
            HostArray x = Npy.read(dir.resolve("input.npy"));
            HostArray want = Npy.read(dir.resolve("eval_out.npy"));
            try (Tape t = Tape.open(false); Tensor in = Tensor.of(b, x.data(), x.shape())) {
                float[] got = net.forward(in).toArray();
                double d = 0, s = 0;
                for (int i = 0; i < got.length; i++) {
                    d = Math.max(d, Math.abs(got[i] - want.data()[i]));
                    s = Math.max(s, Math.abs(want.data()[i]));
                }
                assertTrue(d / s <= 1e-4, arch + " logits relative error " + d / s);
            }
        }
    }
}
