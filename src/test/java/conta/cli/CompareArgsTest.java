package conta.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `conta compare [--config FILE | --demo]`: the two recipes together are refused (exit 2, one line), each alone passes that check. */
class CompareArgsTest {
    @TempDir Path tmp;

    @Test
    void configAndDemoTogetherAreRefused() throws Exception {
        Path conf = tmp.resolve("tiny.conf"), out = tmp.resolve("cmp"), noData = tmp.resolve("no-data");
        Files.writeString(conf, "cls.epochs = 1\n");
        for (String[] argv : new String[][]{
                {"compare", "--data", noData.toString(), "--out", out.toString(), "--config", conf.toString(), "--demo"},
                {"compare", "--data", noData.toString(), "--out", out.toString(), "--demo=true", "--config", conf.toString()}}) {
            ModelCommandErrorsTest.Result r = ModelCommandErrorsTest.run(argv);
            ErrorContractTest.userError(r, "--config FILE or --demo, not both");
            assertTrue(r.err().strip().lines().count() == 1, r.err());
        }
        assertFalse(Files.exists(out), "nothing written");
        // each alone gets past this check (to the missing data folder)
        for (String[] argv : new String[][]{
                {"compare", "--data", noData.toString(), "--out", out.toString(), "--config", conf.toString()},
                {"compare", "--data", noData.toString(), "--out", out.toString(), "--demo"},
                {"compare", "--data", noData.toString(), "--out", out.toString(), "--demo=false", "--config", conf.toString()}}) {
            ModelCommandErrorsTest.Result r = ModelCommandErrorsTest.run(argv);
            ErrorContractTest.userError(r, "no-data");
            assertFalse(r.err().contains("not both"), r.err());
        }
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
