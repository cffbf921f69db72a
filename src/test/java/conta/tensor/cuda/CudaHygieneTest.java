package conta.tensor.cuda;

import static org.bytedeco.cuda.global.cudnn.CUDNN_DEFAULT_MATH;
import static org.bytedeco.cuda.global.cudnn.CUDNN_DETERMINISTIC;
import static org.bytedeco.cuda.global.cudnn.CUDNN_FMA_MATH;
import static org.bytedeco.cuda.global.cudnn.CUDNN_NON_DETERMINISTIC;
import static org.bytedeco.cuda.global.cudnn.CUDNN_STATUS_NOT_SUPPORTED;
import static org.bytedeco.cuda.global.cudnn.CUDNN_STATUS_SUCCESS;
import static org.bytedeco.cuda.global.cudnn.CUDNN_TENSOR_OP_MATH;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CUDA backend's host-side policies, testable without a GPU: the bounded caches and the algorithm choice. */
class CudaHygieneTest {
    @Test
    void lruEvictsTheLeastRecentlyUsedAndDestroysIt() {
        List<String> destroyed = new ArrayList<>();
        LruCache<String, String> c = new LruCache<>(2, destroyed::add);
        c.put("a", "A");
        c.put("b", "B");
        assertEquals("A", c.get("a")); // a is now the most recent
        c.put("c", "C");               // evicts b
        assertEquals(List.of("B"), destroyed);
        assertEquals(null, c.get("b"));
        assertEquals(2, c.size());
        assertEquals(1, c.evictions());
        c.put("a", "A2");              // replacing destroys the old value, no eviction
        assertEquals(List.of("B", "A"), destroyed);
        c.clear();
        assertEquals(0, c.size());
        assertTrue(destroyed.containsAll(List.of("A2", "C")) && destroyed.size() == 4, destroyed.toString());
        assertThrows(IllegalArgumentException.class, () -> new LruCache<String, String>(0, destroyed::add));
    }

    @Test
    void lruHoldsAtMostItsCapacityOverManyShapes() {
        int[] live = {0};
        LruCache<Integer, int[]> c = new LruCache<>(64, v -> live[0]--);
        for (int shape = 0; shape < 10_000; shape++) { // a CAM pass over 10k images of distinct sizes
            live[0]++;
            c.put(shape, new int[]{shape});
        }
        assertEquals(64, c.size());
        assertEquals(64, live[0], "every evicted plan was destroyed");
        assertEquals(10_000 - 64, c.evictions());
    }

    @Test
    void algorithmChoiceSkipsFailedOversizedTensorOpAndNonDeterministicResults() {
        int ok = CUDNN_STATUS_SUCCESS, no = CUDNN_STATUS_NOT_SUPPORTED, det = CUDNN_DETERMINISTIC, non = CUDNN_NON_DETERMINISTIC;
        int[] status = {no, ok, ok, ok, ok};
        long[] memory = {0, 1L << 40, 0, 16, 32};
        int[] math = {CUDNN_DEFAULT_MATH, CUDNN_DEFAULT_MATH, CUDNN_TENSOR_OP_MATH, CUDNN_DEFAULT_MATH, CUDNN_FMA_MATH};
        int[] determinism = {det, det, det, non, det};
        long limit = 256L << 20;
        // fastest first: 0 failed, 1 too big; TF32 on and nondeterminism allowed take the tensor-op result 2
        assertEquals(2, ConvPlans.pick(status, memory, math, determinism, limit, true, false));
        // without TF32 the tensor-op result is refused, the non-deterministic 3 is taken when allowed ...
        assertEquals(3, ConvPlans.pick(status, memory, math, determinism, limit, false, false));
        // ... and skipped by default (deterministic)
        assertEquals(4, ConvPlans.pick(status, memory, math, determinism, limit, false, true));
        assertEquals(-1, ConvPlans.pick(new int[]{ok}, new long[]{0}, new int[]{CUDNN_DEFAULT_MATH}, new int[]{non}, limit, true, true));
    }

    @Test
    void overTheWorkspaceBoundTheSmallestAcceptableResultIsTaken() {
        int ok = CUDNN_STATUS_SUCCESS, no = CUDNN_STATUS_NOT_SUPPORTED, det = CUDNN_DETERMINISTIC, non = CUDNN_NON_DETERMINISTIC;
        int[] status = {ok, ok, no, ok, ok};
        long[] memory = {100, 900L << 20, 1, 300L << 20, 400L << 20};
        int[] math = {CUDNN_DEFAULT_MATH, CUDNN_DEFAULT_MATH, CUDNN_DEFAULT_MATH, CUDNN_DEFAULT_MATH, CUDNN_TENSOR_OP_MATH};
        int[] determinism = {non, det, det, det, det};
        long limit = 256L << 20;
        assertEquals(-1, ConvPlans.pick(status, memory, math, determinism, limit, true, true), "nothing deterministic within the bound");
        // 0 is non-deterministic, 2 failed: of the deterministic 1 (900 MiB), 3 (300) and 4 (400, tensor ops), 3 is smallest
        assertEquals(3, ConvPlans.pickSmallest(status, memory, math, determinism, true, true));
        assertEquals(0, ConvPlans.pickSmallest(status, memory, math, determinism, true, false), "nondeterminism allowed");
        assertEquals(-1, ConvPlans.pickSmallest(new int[]{no}, new long[]{0}, new int[]{CUDNN_DEFAULT_MATH}, new int[]{det}, true, true));
        assertTrue(ConvPlans.candidates(new int[]{1}, new long[]{300L << 20}, new int[]{ok}, new int[]{CUDNN_FMA_MATH}, new int[]{det})
                .contains("algo 1 status 0 300.0 MiB"));
    }

    @Test
    void convSearchModesAreParsed() {
        assertEquals(ConvPlans.Search.AUTO, ConvPlans.search("auto"));
        assertEquals(ConvPlans.Search.FIND, ConvPlans.search("find"));
        assertEquals(ConvPlans.Search.HEURISTIC, ConvPlans.search("heuristic"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ConvPlans.search("fast")).getMessage().contains("auto, find or heuristic"));
    }
    @Test
    void poolingRefusesPaddingOverHalfTheWindowAsPyTorchDoes() {
        // a window of padding only has no maximum: max_pool_fwd would read before the plane
        conta.tensor.cpu.CpuBackend cpu = new conta.tensor.cpu.CpuBackend();
        try (conta.tensor.Tensor x = cpu.empty(1, 1, 4, 4); conta.tensor.Tensor y3 = cpu.empty(1, 1, 4, 4);
             conta.tensor.Tensor y2 = cpu.empty(1, 1, 5, 5)) {
            CudaChecks.pool("maxPool2d", x, conta.tensor.ConvSpec.of(3, 1, 1, 1), false, y3); // ResNet's kind: fine
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> CudaChecks.pool("maxPool2d", x, conta.tensor.ConvSpec.of(2, 1, 2, 1), false, y2));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("padding 2x2 is more than half the window 2x2"), e.getMessage());
            // dilation widens the window: k 2, dilation 3 spans 4 pixels, so padding 2 is allowed
            try (conta.tensor.Tensor y = cpu.empty(1, 1, 5, 5)) {
                CudaChecks.pool("maxPool2d", x, conta.tensor.ConvSpec.of(2, 1, 2, 3), false, y);
            }
        }
    }
}
