package conta.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.cli.Args;
import conta.cli.CliError;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTest {
    @TempDir Path tmp;

    @Test
    void defaultsAreTheReferenceRecipes() {
        Config c = new Config();
        assertEquals(512, c.integer("cls.crop"));
        assertEquals(16, c.integer("cls.batch"));
        assertEquals(0.1, c.number("cls.lr"));
        assertArrayEquals(new double[]{1.0, 0.5, 1.5, 2.0}, c.numbers("cam.scales"));
        assertEquals(0.15, c.number("cam.bg_threshold"));
        assertEquals(0.30, c.number("ir.fg_threshold"));
        assertEquals(0.05, c.number("ir.bg_threshold"));
        assertEquals(10, c.number("rw.beta"));
        assertEquals(8, c.integer("rw.exp_times"));
        assertEquals(321, c.integer("seg.crop"));
        assertEquals(2.5e-4, c.number("seg.lr"));
        assertEquals(3, c.integer("conta.rounds"));
    }

    @Test
    void booleansParseStrictly() {
        Config c = new Config();
        for (String t : new String[]{"true", "True", "yes", "on", "1"}) { c.set("seg.crf", t); assertTrue(c.bool("seg.crf"), t); }
        for (String f : new String[]{"false", "FALSE", "no", "off", "0"}) { c.set("seg.crf", f); assertFalse(c.bool("seg.crf"), f); }
        CliError e = assertThrows(CliError.class, () -> c.set("seg.crf", "maybe"));
        assertTrue(e.getMessage().contains("seg.crf must be true or false"), e.getMessage());
    }

    @Test
    void fileThenFlagsOverrideAndBadInputNamesTheKeyAndLine() throws Exception {
        Path f = tmp.resolve("r.conf");
        Files.writeString(f, "# comment\ncls.epochs = 3   # fewer\nseg.balanced_ce = yes\n");
        Config c = Config.fromArgs(new Args(new String[]{"--config", f.toString(), "--set", "cls.epochs=4"}));
        assertEquals(4, c.integer("cls.epochs"));
        assertTrue(c.bool("seg.balanced_ce"));
        Files.writeString(f, "cls.epoch = 3\n");
        CliError e = assertThrows(CliError.class, () -> new Config().load(f));
        assertTrue(e.getMessage().contains(":1: unknown config key 'cls.epoch'") && e.getMessage().contains("cls.epochs"), e.getMessage());
        e = assertThrows(CliError.class, () -> new Config().set("cls.lr", "fast"));
        assertTrue(e.getMessage().contains("cls.lr must be a finite number"), e.getMessage());
        e = assertThrows(CliError.class, () -> new Config().set("cam.scales", "1.0,x"));
        assertTrue(e.getMessage().contains("cam.scales"), e.getMessage());
    }
}
