package conta.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `conta compare [--demo] [--config FILE] [--set ...]`: the recipe's layers, and --from's refusal. */
class CompareArgsTest {
    @TempDir Path tmp;

    /** --demo starts from the demo's recipe, --config FILE's keys go on top, --set on top of both (models/compare.conf's use). */
    @Test
    void demoThenConfigThenSetMakeTheRecipe() throws Exception {
        Path conf = tmp.resolve("tiny.conf");
        Files.writeString(conf, "cls.epochs = 1\nseg.iters = 7\n");
        conta.config.Config demo = DemoCommand.demoConfig(), paper = new conta.config.Config();
        conta.config.Config r = CompareCommand.recipe(new Args(new String[]{"--demo", "--config", conf.toString(), "--set", "seg.iters=9"}));
        assertEquals("1", r.str("cls.epochs"), "the file over the demo");
        assertEquals("9", r.str("seg.iters"), "--set over the file");
        assertEquals(demo.str("cls.weights"), r.str("cls.weights"), "the demo's other keys kept");
        assertNotEquals(paper.str("cls.weights"), demo.str("cls.weights"), "the demo's recipe differs from the defaults here");
        assertEquals(paper.str("cls.weights"), CompareCommand.recipe(new Args(new String[]{"--config", conf.toString()})).str("cls.weights"),
                "without --demo the file goes over the defaults");
        // models/compare.conf, as its header and docs/history.md run it: the demo's recipe with shorter training
        conta.config.Config c = CompareCommand.recipe(new Args(new String[]{"--demo", "--config", "models/compare.conf"}));
        assertEquals("80", c.str("seg.iters"));
        assertEquals(demo.str("cls.weights"), c.str("cls.weights"));
    }

    /** A --from one method of a comparison cannot take names that method and the way to redo another's stage alone. */
    @Test
    void aFromSomeMethodsLackNamesTheMethod() {
        Path out = tmp.resolve("cmp2");
        ModelCommandErrorsTest.Result r = ModelCommandErrorsTest.run("compare", "--data", tmp.resolve("no-data").toString(), "--out", out.toString(),
                "--methods", "cam,conta", "--set", "conta.rounds=1", "--from", "round1/confounders");
        ErrorContractTest.userError(r, "--from round1/confounders", "method cam of this comparison", "conta pipeline --out " + out.resolve("METHOD").resolve("seedS") + " --method METHOD --seed S");
        assertFalse(Files.exists(out), "nothing written");
    }
}
