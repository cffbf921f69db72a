package conta.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.error.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTest {
    @TempDir Path tmp;

    /** --config OUT/config.json: a run's own recipe (a JSON object), so that redoing one of its stages is one command. */
    @Test
    void aRunsConfigJsonIsAConfigFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("config.json");
        Files.writeString(f, "{\n  \"cls.lr\": \"0.02\",\n  \"method\": \"conta\",\n  \"cls.blocks\": \"1,1,1,1\"\n}\n");
        Config c = Config.fromFlags(f.toString(), List.of("cls.epochs=2"));
        assertEquals(0.02, c.number("cls.lr"), 0);
        assertEquals("conta", c.str("method"));
        assertArrayEquals(new int[]{1, 1, 1, 1}, c.ints("cls.blocks"));
        assertEquals(2, c.integer("cls.epochs"));
        assertEquals("opencv", c.str("data.resize"), "a key the run predates means what it meant then (ConfigKeys.LEGACY)");
        // a key this version no longer knows is skipped (with a note), as the pipeline's own recipe comparison does
        Files.writeString(f, "{\"cls.lr\": \"0.03\", \"cam.old_key\": \"1\", \"data.resize\": \"pil\"}");
        Config d = Config.fromFlags(f.toString(), List.of());
        assertEquals(0.03, d.number("cls.lr"), 0);
        assertEquals("pil", d.str("data.resize"));
        // a report.json: its "config" object
        Path r = dir.resolve("report.json");
        Files.writeString(r, "{\"rounds\": [], \"config\": {\"seg.lr\": \"0.001\", \"device\": \"cpu\"}}");
        assertEquals(0.001, Config.fromFlags(r.toString(), List.of()).number("seg.lr"), 0);
        Files.writeString(f, "{\"cls.lr\": \"-1\"}");
        UserError e = assertThrows(UserError.class, () -> Config.fromFlags(f.toString(), List.of()));
        assertTrue(e.getMessage().startsWith(f + ": ") && e.getMessage().contains("cls.lr"), e.getMessage());
        Files.writeString(f, "cls.lr = 0.02");
        e = assertThrows(UserError.class, () -> Config.fromFlags(f.toString(), List.of()));
        assertTrue(e.getMessage().contains(f + " is not a JSON object"), e.getMessage());
    }

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
        UserError e = assertThrows(UserError.class, () -> c.set("seg.crf", "maybe"));
        assertTrue(e.getMessage().contains("config seg.crf = 'maybe' is not allowed: must be true or false"), e.getMessage());
    }

    /** Integers are ASCII digits: Integer.parseInt alone takes "\uFF13" (full-width 3), and config.json then kept it. */
    @Test
    void integersAreAsciiDigits() {
        Config c = new Config();
        for (String bad : new String[]{"\uFF13", "\u0663", "1\uFF10"}) {
            UserError e = assertThrows(UserError.class, () -> c.set("cls.epochs", bad), bad);
            assertTrue(e.getMessage().contains("config cls.epochs = '" + bad + "' is not allowed"), e.getMessage());
        }
        assertThrows(UserError.class, () -> c.set("cls.blocks", "3,4,\uFF16,3"));
        c.set("cls.epochs", "+3");
        assertEquals(3, c.integer("cls.epochs"));
    }

    @Test
    void fileThenFlagsOverrideAndBadInputNamesTheKeyAndLine() throws Exception {
        Path f = tmp.resolve("r.conf");
        Files.writeString(f, "# comment\ncls.epochs = 3   # fewer\nseg.balanced_ce = yes\n");
        Config c = Config.fromFlags(f.toString(), List.of("cls.epochs=4"));
        assertEquals(4, c.integer("cls.epochs"));
        assertTrue(c.bool("seg.balanced_ce"));
        Files.writeString(f, "cls.epoch = 3\n");
        UserError e = assertThrows(UserError.class, () -> new Config().load(f));
        assertTrue(e.getMessage().contains(":1: unknown config key 'cls.epoch'") && e.getMessage().contains("cls.epochs"), e.getMessage());
        e = assertThrows(UserError.class, () -> new Config().set("cls.lr", "fast"));
        assertTrue(e.getMessage().contains("config cls.lr = 'fast' is not allowed: must be a number in (0, 100]"), e.getMessage());
        e = assertThrows(UserError.class, () -> new Config().set("cam.scales", "1.0,x"));
        assertTrue(e.getMessage().contains("cam.scales"), e.getMessage());
    }

    @Test
    void contaBlocksParse() {
        Config c = new Config();
        assertArrayEquals(new int[]{5}, c.contextBlocks("conta.blocks"), "default: block 5");
        String[][] ok = {{"3", "3"}, {"5", "5"}, {"2", "2"}, {"4", "4"}, {"3,5", "3,5"}, {" 5 , 3 ", "3,5"}, {"all", "2,3,4,5"}, {"ALL", "2,3,4,5"},
            {"2,3,4,5", "2,3,4,5"}};
        for (String[] v : ok) {
            c.set("conta.blocks", v[0]);
            assertEquals(v[1], java.util.Arrays.stream(c.contextBlocks("conta.blocks")).mapToObj(Integer::toString)
                    .collect(java.util.stream.Collectors.joining(",")), v[0]);
        }
        for (String bad : new String[]{"1", "6", "0", "x", "3,", "3,3", "", "all,5", "3;5", "-2"}) {
            UserError e = assertThrows(UserError.class, () -> new Config().set("conta.blocks", bad), bad);
            assertTrue(e.getMessage().contains("conta.blocks = '" + bad + "' is not allowed: must be 2, 3, 4 or 5"), e.getMessage());
        }
        Path f = tmp.resolve("b.conf");
        UserError e = assertThrows(UserError.class, () -> {
            Files.writeString(f, "conta.blocks = 7\n");
            new Config().load(f);
        });
        assertTrue(e.getMessage().contains(":1: config conta.blocks = '7' is not allowed: must be 2, 3, 4 or 5"), e.getMessage());
        assertTrue(e.getMessage().contains("block 7 does not exist"), e.getMessage());
    }
}
