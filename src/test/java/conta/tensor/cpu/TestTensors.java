package conta.tensor.cpu;

import conta.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** The tensors one test makes on the CPU backend, with uniform random values in [-range, range); closed together. */
final class TestTensors {
    private final CpuBackend b;
    private final SplittableRandom rnd;
    private final double range;
    private final List<Tensor> live = new ArrayList<>();

    TestTensors(CpuBackend b, long seed, double range) {
        this.b = b;
        this.rnd = new SplittableRandom(seed);
        this.range = range;
    }

    Tensor of(float[] v, int... shape) { return keep(Tensor.of(b, v, shape)); }

    Tensor rand(int... shape) {
        float[] v = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextDouble() * 2 * range - range);
        return of(v, shape);
    }

    Tensor empty(int... shape) { return keep(b.empty(shape)); }

    Tensor zeros(int... shape) { return keep(Tensor.zeros(b, shape)); }

    int nextInt(int bound) { return rnd.nextInt(bound); }

    private Tensor keep(Tensor x) {
        live.add(x);
        return x;
    }

    void closeAll() {
        live.forEach(Tensor::close);
        live.clear();
    }
}
