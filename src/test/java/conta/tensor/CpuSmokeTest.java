package conta.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import conta.tensor.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/** Hand-worked cases that must hold before anything else is worth testing. */
class CpuSmokeTest {
    final Backend b = new CpuBackend();

    @Test
    void conv3x3PaddedOnOnes() {
        // all-ones 3x3 image and kernel, padding 1: each output counts the in-image pixels of its window
        try (Tensor x = Tensor.of(b, new float[]{1, 1, 1, 1, 1, 1, 1, 1, 1}, 1, 1, 3, 3);
             Tensor w = Tensor.of(b, new float[]{1, 1, 1, 1, 1, 1, 1, 1, 1}, 1, 1, 3, 3);
             Tensor y = b.empty(1, 1, 3, 3)) {
            b.conv2d(x, w, null, ConvSpec.of(3, 1, 1, 1), y);
            assertArrayEquals(new float[]{4, 6, 4, 6, 9, 6, 4, 6, 4}, y.toArray(), 0f);
        }
    }

    @Test
    void gemmTransposed() {
        // [1 2; 3 4]^T [5; 6] = [1*5+3*6, 2*5+4*6] = [23, 34]
        try (Tensor a = Tensor.of(b, new float[]{1, 2, 3, 4}, 2, 2);
             Tensor v = Tensor.of(b, new float[]{5, 6}, 2, 1);
             Tensor c = b.empty(2, 1)) {
            b.gemm(true, false, 1f, a, v, 0f, c);
            assertArrayEquals(new float[]{23, 34}, c.toArray(), 0f);
        }
    }
}
