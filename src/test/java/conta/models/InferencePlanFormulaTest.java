package conta.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.autograd.Tape;
import conta.infer.InferencePlan;
import conta.io.HostArray;
import conta.io.Npy;
import conta.nn.Module;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Full-size torchvision ResNet-50/101 (FormulaResNetTest's splitmix64 weights, PyTorch's logits) through an
 * InferencePlan: at real widths oneDNN picks its blocked layouts and JIT kernels (the width-4 fixtures of
 * InferencePlanParityTest mostly run its reference kernels), so this is the test of the layout chaining that the
 * benchmarks time. Plan vs training-graph eval forward per element within 1e-5 (atol 1e-5 x max, rtol 1e-5), plan vs
 * PyTorch within 1e-4 relative; the bf16 plan vs PyTorch within 3e-2 (bfloat16 rounding).
 */
class InferencePlanFormulaTest {
    @ParameterizedTest
    @ValueSource(strings = {"resnet50", "resnet101"})
    void fullSizeLogits(String arch) throws Exception {
        Path dir = Path.of("test-data/fixtures/" + arch + "_formula");
        Backend b = new CpuBackend();
        try (Network net = Models.build(arch, Models.Options.none(), b)) {
            Module m = net.module();
            FormulaResNetTest.fill(m, b);
            m.train(false);
            HostArray x = Npy.read(dir.resolve("input.npy"));
            float[] want = Npy.read(dir.resolve("eval_out.npy")).data(), ref;
            try (Tape t = Tape.open(false); Tensor in = Tensor.of(b, x.data(), x.shape())) {
                ref = net.forward(in).toArray();
            }
            try (InferencePlan plan = InferencePlan.compile(net, x.shape())) {
                float[] got = plan.run(x.data());
                assertEquals(want.length, got.length);
                double scale = 0, worst = 0, d = 0, s = 0;
                for (float v : ref) scale = Math.max(scale, Math.abs(v));
                for (int i = 0; i < got.length; i++) {
                    worst = Math.max(worst, Math.abs((double) got[i] - ref[i]) / (1e-5 * scale + 1e-5 * Math.abs(ref[i])));
                    d = Math.max(d, Math.abs(got[i] - want[i]));
                    s = Math.max(s, Math.abs(want[i]));
                }
                assertTrue(worst <= 1, arch + ": plan vs training graph at " + worst + " x the 1e-5 tolerance");
                assertTrue(d / s <= 1e-4, arch + ": plan vs PyTorch relative error " + d / s);
                assertTrue(!plan.describe().contains("ref:"), arch + ": a reference (slow) kernel in the plan:\n" + plan.describe());
                // conta's own kernels, where they run, are in this comparison: at 64x64 the small-map GEMM takes layers
                // 2-4 (maps of 8x8 and less: 1x1 and 3x3, stride 1 and 2), Winograd F(4x4) layer 1; without the GEMM
                // kernel Winograd takes layers 3 and 4 too, F(2x2)
                String desc = plan.describe();
                if (conta.tensor.cpu.GemmConv.chosen())
                    assertTrue(desc.contains("conv 512x512x3x3 s1 d1 gemm") && desc.contains("conv 128x128x3x3 s2 d1 gemm")
                            && desc.contains("conv 2048x1024x1x1 s2 d1 gemm") && desc.contains("conv 2048x512x1x1 s1 d1 gemm +sum +relu"), desc);
                if (conta.tensor.cpu.Winograd.available())
                    assertTrue(desc.contains("winograd_f4x4") && (conta.tensor.cpu.GemmConv.chosen()
                            || desc.contains("winograd_f2x2") && desc.contains("conv 512x512x3x3 s1 d1 winograd")), desc);
                System.err.printf("%s: plan vs graph worst %.3f of the tolerance, vs PyTorch %.2e%n", arch, worst, d / s);
            }
            // the bf16 plan (the bf16 Winograd kernel in it where the CPU has AVX512-BF16 and no AMX) against PyTorch's
            // float logits: within bfloat16 rounding over ~50 rounded layers (the same 3e-2 as InferencePlanParityTest)
            try (InferencePlan plan = InferencePlan.compile(net, conta.infer.Precision.BF16, x.shape())) {
                float[] got = plan.run(x.data());
                double d = 0, s = 0;
                for (int i = 0; i < got.length; i++) {
                    d = Math.max(d, Math.abs(got[i] - want[i]));
                    s = Math.max(s, Math.abs(want[i]));
                }
                assertTrue(d / s <= 3e-2, arch + ": bf16 plan vs PyTorch relative error " + d / s);
                if (conta.tensor.cpu.Winograd.bf16Chosen())
                    assertTrue(plan.describe().contains("winograd_f2x2:avx512_bf16"), plan.describe());
                System.err.printf("%s: bf16 plan vs PyTorch %.2e%n", arch, d / s);
            }
        }
    }
}
