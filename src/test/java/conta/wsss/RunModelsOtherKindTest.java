package conta.wsss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import conta.io.Safetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunModelsOtherKindTest {
    /**
     * A run's own stage model that is another kind of file (here a Git LFS pointer, text) names the pipeline command that
     * writes it again, as a damaged one does; "give a run folder or the .safetensors that conta export writes" is for a
     * file given by itself, not for a run folder the user did give.
     */
    @Test
    void aRunsStageModelOfAnotherKindNamesTheRecompute(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("runs/x"), seg = run.resolve("round0/seg/model.safetensors");
        Files.createDirectories(seg.getParent());
        Files.writeString(seg, "version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 1\n");
        Exception e = assertThrows(Safetensors.NotSafetensors.class, () -> Safetensors.read(seg));
        assertEquals(seg + " is not a conta model (it is text, beginning \"version \"); recompute it with `conta pipeline --data DATA --out "
                + run + " --config " + run.resolve("config.json") + " --from round0/seg`", RunModels.damaged(seg, e).getMessage());
        Path alone = tmp.resolve("seg.safetensors");
        Files.copy(seg, alone);
        Exception f = assertThrows(Safetensors.NotSafetensors.class, () -> Safetensors.read(alone));
        assertEquals(alone + " is not a conta model (it is text, beginning \"version \"); give a run folder or the .safetensors that `conta export` writes",
                RunModels.damaged(alone, f).getMessage());
    }
}
