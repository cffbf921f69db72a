package conta.tensor;

import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * gemm, all four transpose combinations, alpha and beta. gemm has no backward op: its gradients are gemm calls
 * (dop(A) = alpha dC op(B)^T, dop(B) = alpha op(A)^T dC, dC_in = beta dC), checked here against finite differences.
 */
class GemmOpsTest extends OpsTestBase {
    static final int M = 5, N = 7, K = 6;

    static Stream<Arguments> combos() {
        return Stream.of(false, true).flatMap(ta -> Stream.of(false, true).flatMap(tb ->
                Stream.of(Arguments.of(ta, tb, 1.0f, 0.0f), Arguments.of(ta, tb, 1.5f, 0.5f))));
    }

    static int[] aShape(boolean ta) { return ta ? new int[]{K, M} : new int[]{M, K}; }

    static int[] bShape(boolean tb) { return tb ? new int[]{N, K} : new int[]{K, N}; }

    @ParameterizedTest(name = "transA={0} transB={1} alpha={2} beta={3}")
    @MethodSource("combos")
    void forward(boolean ta, boolean tb, float alpha, float beta) {
        Random rnd = new Random(1);
        double[] a = rand(rnd, M * K, -1, 1), b = rand(rnd, K * N, -1, 1), c = rand(rnd, M * N, -1, 1);
        Tensor ct = t(c, M, N);
        be.gemm(ta, tb, alpha, t(a, aShape(ta)), t(b, bShape(tb)), beta, ct);
        GradCheck.assertClose("gemm", RefOps.gemm(ta, tb, alpha, a, b, beta, c, M, N, K), get(ct), FWD_TOL);
    }

    @ParameterizedTest(name = "transA={0} transB={1} alpha={2} beta={3}")
    @MethodSource("combos")
    void gradients(boolean ta, boolean tb, float alpha, float beta) {
        Random rnd = new Random(2);
        GradCheck.check("gemm ta=" + ta + " tb=" + tb, new double[][]{rand(rnd, M * K, -1, 1), rand(rnd, K * N, -1, 1),
                        rand(rnd, M * N, -1, 1)}, new boolean[]{true, true, true},
                in -> RefOps.gemm(ta, tb, alpha, in[0], in[1], beta, in[2], M, N, K),
                (in, dy) -> {
                    Tensor a = t(in[0], aShape(ta)), b = t(in[1], bShape(tb)), dc = t(dy, M, N);
                    Tensor da = zeros(aShape(ta)), db = zeros(bShape(tb)), dcIn = zeros(M, N);
                    // dA
                    if (!ta) be.gemm(false, !tb, alpha, dc, b, 0f, da);      // M x K = dC (M x N) . op(B)^T
                    else be.gemm(tb, true, alpha, b, dc, 0f, da);           // K x M = op(B) (K x N) . dC^T
                    // dB
                    if (!tb) be.gemm(!ta, false, alpha, a, dc, 0f, db);      // K x N = op(A)^T . dC
                    else be.gemm(true, ta, alpha, dc, a, 0f, db);           // N x K = dC^T . op(A)
                    be.scale(dc, beta, dcIn);
                    return new float[][]{get(da), get(db), get(dcIn)};
                }, 3);
    }
}
