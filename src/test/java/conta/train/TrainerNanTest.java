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
        try (CpuBackend b = new CpuBackend(); Linear lin = new Linear(b, 3, ds.numClasses(), true)) {
            int[] calls = {0};
            var plan = new Trainer.Plan("probe", ds, ds.ids("train"), AugmentSpec.none(), 2, 8, 0, 1, false, 0.01f, 0.9f, 2);
            try (Sgd opt = Sgd.single(lin.trainableParameters(), 0.9f, 0f)) {
                return Trainer.run(lin, opt, plan, (x, bt) -> {
                    Tensor logits = lin.forward(F.globalAvgPool(x));
                    Tensor l = F.multilabelSoftMarginLoss(logits, Tape.track(Tensor.of(b, bt.labels(), bt.n(), ds.numClasses())));
                    return calls[0]++ >= nanAt ? F.scale(l, Float.NaN) : l;
                }, ckpt, Map.of());
            }
        }
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
}
