package conta.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * `conta bench infer --impl plan`: the plan at batch N runs and reports its rate; a wrong --impl is a user error.
 * `conta bench train --arch irn-boundary --profile host`: the boundary branch's step runs, its profile table lists the
 * convolutions and its sum row.
 */
class BenchInferTest {
    @Test
    void planAtBatchN() {
        ModelCommandErrorsTest.Result r = ModelCommandErrorsTest.run("bench", "infer", "--impl", "plan", "--arch", "resnet18",
                "--batch", "2", "--size", "32", "--iters", "2", "--classes", "10");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s)conta resnet18 infer batch 2 size 32 on cpu, fp32 inference plan: [0-9.]+ images/s.*"), r.out());
        assertEquals(3, r.err().lines().filter(l -> l.startsWith("iter ")).count(), "one warm-up and two timed calls: " + r.err());
    }

    @Test
    void boundaryBranchStepWithProfile() {
        ModelCommandErrorsTest.Result r = ModelCommandErrorsTest.run("bench", "train", "--arch", "irn-boundary", "--width", "8", "--blocks", "1,1,1,1",
                "--batch", "2", "--size", "96", "--iters", "2", "--warmup", "1", "--profile", "host");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s)conta irn-boundary train batch 2 size 96 on cpu, [a-z0-9]+ convolutions, backbone through inference plans: [0-9.]+ images/s.*"),
                r.out());
        assertTrue(r.out().contains("| conv2d | ") && r.out().contains("| all ops |"), r.out());
        // --impl graph: the backbone's forward on the training graph, its frozen batch norms among the ops
        r = ModelCommandErrorsTest.run("bench", "train", "--arch", "irn-boundary", "--width", "8", "--blocks", "1,1,1,1",
                "--batch", "2", "--size", "96", "--iters", "1", "--warmup", "0", "--profile", "host", "--impl", "graph");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s)conta irn-boundary train batch 2 size 96 on cpu, [a-z0-9]+ convolutions: [0-9.]+ images/s.*"), r.out());
        assertTrue(r.out().contains("| channelAffine | "), r.out());
    }

    @Test
    void unknownImpl() {
        ErrorContractTest.userError(ModelCommandErrorsTest.run("bench", "infer", "--impl", "onnx", "--arch", "resnet18", "--size", "32"),
                "--impl", "graph or plan", "onnx");
    }
}
