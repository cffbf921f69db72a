package conta.tensor.cuda;

import conta.io.HostArray;
import conta.io.Npy;
import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Compares conv, batch norm and GEMM on conta's CUDA backend with PyTorch on the same GPU: bench/torch_gpu_compare.py
 * writes inputs and torch's outputs to DIR/*.npz; this runs the same ops and prints the relative errors (tolerance 1e-5
 * without TF32, 1e-3 with). Usage: TorchCompare DIR. Exit 1 if any case is over tolerance.
 */
public final class TorchCompare {
    public static void main(String[] args) throws Exception {
        SelfTest t = new SelfTest();
        List<Path> files;
        try (Stream<Path> s = Files.list(Path.of(args[0]))) {
            files = s.filter(p -> p.toString().endsWith(".npz")).sorted().toList();
        }
        try {
            for (boolean tf32 : new boolean[]{false, true}) {
                try (CudaBackend g = new CudaBackend(0, tf32)) {
                    double tol = tf32 ? 1e-3 : 1e-5;
                    for (Path f : files) {
                        String name = f.getFileName().toString().replace(".npz", "");
                        if (name.endsWith("_tf32") != tf32) continue;
                        Map<String, HostArray> m = Npy.readNpz(f);
                        t.run(name, () -> run(t, g, name, m, tol));
                    }
                }
            }
        } finally { // the summary survives a device fault that escapes a case
            System.out.printf("torch comparison: %d cases, %d failed%n", t.cases, t.failures.size());
            t.failures.forEach(f -> System.out.println("FAILED " + f));
        }
        System.exit(t.failures.isEmpty() ? 0 : 1);
    }

    private static Tensor up(CudaBackend g, HostArray a) { return Tensor.of(g, a.data(), a.shape()); }

    private static void run(SelfTest t, CudaBackend g, String name, Map<String, HostArray> m, double tol) {
        if (name.startsWith("conv")) {
            float[] geo = m.get("geom").data(); // k, stride, pad, dilation
            ConvSpec s = ConvSpec.of((int) geo[0], (int) geo[1], (int) geo[2], (int) geo[3]);
            try (Tensor x = up(g, m.get("x")); Tensor w = up(g, m.get("w")); Tensor b = up(g, m.get("b")); Tensor dy = up(g, m.get("dy"));
                 Tensor y = g.empty(m.get("y").shape()); Tensor dx = g.empty(x.shape()); Tensor dw = Tensor.zeros(g, w.shape());
                 Tensor db = Tensor.zeros(g, b.shape())) {
                g.conv2d(x, w, b, s, y);
                g.conv2dBackward(x, w, dy, s, dx, dw, db);
                int[] xs = x.shape(), ws = w.shape(), ys = y.shape();
                long kw = (long) ws[2] * ws[3], nhw = (long) ys[0] * ys[2] * ys[3];
                t.check(name + " y", y.toArray(), m.get("y").data(), tol, xs[1] * kw);
                t.check(name + " dx", dx.toArray(), m.get("dx").data(), tol, ws[0] * kw);
                t.check(name + " dw", dw.toArray(), m.get("dw").data(), tol, nhw);
                t.check(name + " db", db.toArray(), m.get("db").data(), tol, nhw);
            }
        } else if (name.startsWith("bn")) {
            int c = m.get("gamma").shape()[0];
            try (Tensor x = up(g, m.get("x")); Tensor gm = up(g, m.get("gamma")); Tensor bt = up(g, m.get("beta")); Tensor dy = up(g, m.get("dy"));
                 Tensor rm = Tensor.zeros(g, c); Tensor rv = Tensor.of(g, ones(c), c); Tensor y = g.empty(x.shape()); Tensor sm = g.empty(c);
                 Tensor si = g.empty(c); Tensor dx = g.empty(x.shape()); Tensor dg = Tensor.zeros(g, c); Tensor db = Tensor.zeros(g, c)) {
                g.batchNormTrain(x, gm, bt, rm, rv, 0.1f, 1e-5f, y, sm, si);
                g.batchNormBackward(x, gm, dy, sm, si, dx, dg, db);
                long nhw = x.numel() / c; // each output rests on a per-channel sum over N, H, W
                t.check(name + " y", y.toArray(), m.get("y").data(), tol, nhw);
                t.check(name + " running_mean", rm.toArray(), m.get("rm").data(), tol, nhw);
                t.check(name + " running_var", rv.toArray(), m.get("rv").data(), tol, nhw);
                t.check(name + " dx", dx.toArray(), m.get("dx").data(), tol, nhw);
                t.check(name + " dgamma", dg.toArray(), m.get("dgamma").data(), tol, nhw);
                t.check(name + " dbeta", db.toArray(), m.get("dbeta").data(), tol, nhw);
            }
        } else if (name.startsWith("gemm")) {
            float[] fl = m.get("flags").data();
            try (Tensor a = up(g, m.get("a")); Tensor b = up(g, m.get("b")); Tensor c = g.empty(m.get("c").shape())) {
                g.gemm(fl[0] != 0, fl[1] != 0, 1f, a, b, 0f, c);
                int[] as = a.shape();
                t.check(name + " C", c.toArray(), m.get("c").data(), tol, fl[0] != 0 ? as[0] : as[1]);
            }
        }
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1f);
        return a;
    }
}
