package conta.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.error.UserError;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Flag parsing: values, bare flags, numbers that do not fit. */
class ArgsTest {
    private static Args args(String... argv) { return new Args(argv); }

    /** A misspelt flag names the one meant, as a misspelt config key does (hand-worked edit distances). */
    @Test
    void aMisspeltFlagNamesTheNearestKnownOne() {
        List<String> predict = List.of("model", "images", "out", "crf", "cams", "overlay", "device", "precision", "skip-bad", "round");
        assertEquals(" (did you mean --model?)", Args.nearest("modle", predict));     // a transposition: two edits
        assertEquals(" (did you mean --out?)", Args.nearest("otu", predict));
        assertEquals(" (did you mean --images?)", Args.nearest("image", predict));    // a prefix
        assertEquals(" (did you mean --overlay?)", Args.nearest("overlays", predict));
        assertEquals("", Args.nearest("frob", predict));                               // three or more edits from every flag
        Args a = new Args(new String[]{"--modle", "x", "--out", "y"});
        assertEquals(List.of("modle (did you mean --model?)"), a.unknown(predict));
    }

    @Test
    void valuesAndPositionalWords() {
        Args a = args("forward", "--arch", "resnet18", "--width=8", "--set", "a=1", "--set", "b=2", "x.npy");
        assertEquals(List.of("forward", "x.npy"), a.positional());
        assertEquals("resnet18", a.get("arch", null));
        assertEquals(8, a.getInt("width", 0));
        assertEquals(List.of("a=1", "b=2"), a.all("set"));
        assertEquals(-3, args("--steps", "-3").getInt("steps", 0)); // a negative number is a value, not a flag
    }

    /** A value flag given twice with different values is refused (the last one won silently); the same value twice is fine. */
    @Test
    void aFlagGivenTwiceWithDifferentValuesIsRefused() {
        UserError e = assertThrows(UserError.class, () -> args("--size", "128", "--size", "64").getInt("size", 0));
        assertEquals("--size is given 2 times (128, 64); give it once", e.getMessage());
        assertEquals(64, args("--size", "64", "--size", "64").getInt("size", 0));
        assertEquals(List.of("a=1", "a=2"), args("--set", "a=1", "--set", "a=2").all("set"), "repeatable flags keep every value");
    }

    @Test
    void aBareFlagIsTrueForABooleanAndMissingItsValueForAnythingElse() {
        Args a = args("--force", "--train");
        assertTrue(a.getBool("force", false));
        assertTrue(a.has("train"));
        UserError e = assertThrows(UserError.class, () -> a.getInt("train", 4));
        assertEquals("--train needs a value (--train VALUE)", e.getMessage());
        assertEquals("--config needs a value (--config VALUE)",
                assertThrows(UserError.class, () -> args("--config", "--data", "d").get("config", null)).getMessage());
        assertEquals("--set needs a value (--set VALUE)",
                assertThrows(UserError.class, () -> args("--set", "a=1", "--set").all("set")).getMessage());
        assertEquals("--out needs a value (--out VALUE)", assertThrows(UserError.class, () -> args("--out").require("out")).getMessage());
        assertFalse(args("--force=no").getBool("force", true));
    }

    /**
     * An empty value ({@code --out ""}, {@code --out=}) is refused: as a path it was the working folder, so
     * {@code pipeline --out ""} wrote its run into the current folder and {@code synth --out ""} its data set.
     */
    @Test
    void anEmptyValueIsRefusedNotReadAsTheWorkingFolder() {
        assertEquals("--out is empty; give it a value (--out VALUE)",
                assertThrows(UserError.class, () -> args("--out", "").get("out", "runs/demo")).getMessage());
        assertEquals("--out is empty; give it a value (--out VALUE)", assertThrows(UserError.class, () -> args("--out=").require("out")).getMessage());
        assertEquals("--images is empty; give it a value (--images VALUE)",
                assertThrows(UserError.class, () -> args("--images", "a.jpg", "--images", "").all("images")).getMessage());
        assertThrows(UserError.class, () -> args("--train", "").getInt("train", 4));
        assertEquals(" ", args("--out", " ").get("out", null), "a blank name is a name (a folder may be called that)");
    }

    @Test
    void anIntegerTooLargeIsSaidToBeTooLargeNotNotAnInteger() {
        assertEquals("--train 99999999999 is too large (an integer from -2147483648 to 2147483647)",
                assertThrows(UserError.class, () -> args("--train", "99999999999").getInt("train", 0)).getMessage());
        assertEquals("--seed -99999999999 is too small (an integer from -2147483648 to 2147483647)",
                assertThrows(UserError.class, () -> args("--seed", "-99999999999").getInt("seed", 0)).getMessage());
        assertEquals("--train expects an integer, got '4.5'",
                assertThrows(UserError.class, () -> args("--train", "4.5").getInt("train", 0)).getMessage());
        assertEquals("--lr expects a number, got 'fast'",
                assertThrows(UserError.class, () -> args("--lr", "fast").getDouble("lr", 0)).getMessage());
    }

    @Test
    void requireAllNamesEveryMissingFlagAndTheUsageLine() {
        Args a = args("--model", "m");
        a.requireAll("usage: conta x --model M\n  more help", "model");
        assertEquals("missing --images, --out (usage: conta predict --model M --images DIR --out DIR)",
                assertThrows(UserError.class, () -> a.requireAll("usage: conta predict --model M --images DIR --out DIR\n  help", "model", "images", "out"))
                        .getMessage());
    }
}
