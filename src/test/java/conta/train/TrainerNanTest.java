package conta.train;

import static org.junit.jupiter.api.Assertions.*;

import conta.autograd.F;
import conta.autograd.Tape;
import conta.data.AugmentSpec;
import conta.data.Dataset;
import conta.data.Datasets;
import conta.nn.Linear;
import conta.optim.Sgd;
import conta.synth.SynthGenerator;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The NaN stop tells the truth about checkpoints: none before the first save, the step of the last one after. */
class TrainerNanTest {
    @TempDir static Path tmp;
    static Dataset ds;

    @BeforeAll
    static void data() throws Exception {
        SynthGenerator.generate(tmp.resolve("synth"), new SynthGenerator.Config(3, 8, 0, 32, 0.8));
        ds = Datasets.open(tmp.resolve("synth"), false);
    }

    /** Trains a linear probe on pooled colours, 8 steps, checkpoints every 2; the loss is NaN from call nanAt on. */
    static Trainer.Result train(Path ckpt, int nanAt) {
        return train(ckpt, 8, call -> call >= nanAt ? Float.NaN : 1f);
    }

    /** The same for the given steps, the true loss of call k (from 0) multiplied by factor(k). */
    static Trainer.Result train(Path ckpt, int steps, java.util.function.IntFunction<Float> factor) {
        try (CpuBackend b = new CpuBackend(); Linear lin = new Linear(b, 3, ds.numClasses(), true)) {
            int[] calls = {0};
            var plan = new Trainer.Plan("probe", ds, ds.ids("train"), AugmentSpec.none(), 2, steps, 0, 1, false, 0.01f, 0.9f, 2);
            try (Sgd opt = Sgd.single(lin.trainableParameters(), 0.9f, 0f)) {
                return Trainer.run(lin, opt, plan, (x, bt) -> {
                    Tensor logits = lin.forward(F.globalAvgPool(x));
                    Tensor l = F.multilabelSoftMarginLoss(logits, Tape.track(Tensor.of(b, bt.labels(), bt.n(), ds.numClasses())));
                    float k = factor.apply(calls[0]++);
                    return k == 1f ? l : F.scale(l, k);
                }, ckpt, Map.of());
            }
        }
    }

    /** A finite loss 10^5 x its first step's for 10 steps is stopped like a NaN, and says the stage must start again. */
    @Test
    void aLossThatRunsAwayWithoutNanStopsAndAsksForARedo() {
        Path ck = tmp.resolve("runaway.safetensors");
        var e = assertThrows(Diverged.class, () -> train(ck, 40, call -> call >= 3 ? 1e5f : 1f)); // steps 4.. run away
        assertTrue(e.redoStage(), e.getMessage());
        assertTrue(e.getMessage().contains("ran away") && e.getMessage().contains("at step 13"), e.getMessage());
        // 10^3 x is a bad stretch, not a runaway: the run finishes
        assertEquals(40, train(tmp.resolve("bumpy.safetensors"), 40, call -> call >= 3 && call < 30 ? 1e3f : 1f).steps());
    }

    /** A NaN right after a checkpoint written at a run-away loss: resuming from it cannot help, so the stage is redone. */
    @Test
    void aNanAfterARunawayCheckpointDoesNotOfferToResumeFromIt() {
        Path ck = tmp.resolve("blown.safetensors");
        var e = assertThrows(Diverged.class, () -> train(ck, 8, call -> call >= 5 ? Float.NaN : call >= 2 ? 1e3f : 1f)); // saved at 2 and 4
        assertTrue(e.redoStage(), e.getMessage());
        assertTrue(e.getMessage().contains("at step 6") && e.getMessage().contains("checkpoint of step 4") && e.getMessage().contains("cannot help"),
                e.getMessage());
        assertFalse(e.getMessage().contains("is kept"), e.getMessage());
    }

    @Test
    void aNanBeforeAnyCheckpointSaysTheStageRestarts() {
        Path ck = tmp.resolve("first.safetensors");
        var e = assertThrows(Diverged.class, () -> train(ck, 0)); // a UserError: exit 2, the fix is the learning rate
        assertTrue(e.getMessage().contains("at step 1"), e.getMessage());
        assertTrue(e.getMessage().contains("no checkpoint was written"), e.getMessage());
        assertFalse(e.getMessage().contains("is kept"), e.getMessage());
        assertFalse(Files.exists(ck));
    }

    @Test
    void aNanAfterACheckpointNamesItsStepAndTheRerunResumes() {
        Path ck = tmp.resolve("later.safetensors");
        var e = assertThrows(Diverged.class, () -> train(ck, 5)); // steps 1..5 fine, NaN at step 6
        assertTrue(e.getMessage().contains("at step 6"), e.getMessage());
        assertTrue(e.getMessage().contains("the checkpoint of step 4 is kept"), e.getMessage());
        // resumed from step 4: only 4 more loss calls happen, so a NaN from the 5th call on is never reached
        assertEquals(8, train(ck, 4).steps());
    }

    /** A rerun after that stop resumes from the blown checkpoint: its metadata still says so (the reference is the stage's first step). */
    @Test
    void aResumedRunStillKnowsItsCheckpointRanAway() {
        Path ck = tmp.resolve("blown-resumed.safetensors");
        assertThrows(Diverged.class, () -> train(ck, 8, call -> call >= 5 ? Float.NaN : call >= 2 ? 1e3f : 1f));
        var e = assertThrows(Diverged.class, () -> train(ck, 8, call -> call >= 1 ? Float.NaN : 1e3f)); // resumed at step 4
        assertTrue(e.redoStage(), e.getMessage());
        assertTrue(e.getMessage().contains("at step 6") && e.getMessage().contains("checkpoint of step 4"), e.getMessage());
    }
}
