package conta.pipeline;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.config.Config;
import conta.error.UserError;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** compare --tables-only checks each seed's recipe by value, as a resumed run does (0.05 and 0.050 are one learning rate). */
class ComparisonRecipeTest {
    @Test
    void aValueWrittenAnotherWayIsTheSameRecipe() {
        Config c = new Config();
        c.set("cls.lr", "0.050");
        c.set("ir.crf", "no");
        Map<String, Object> cfg = new LinkedHashMap<>(new Config().asMap());
        cfg.put("cls.lr", "0.05");
        cfg.put("ir.crf", "false");
        Map<String, Object> report = Map.of("config", cfg);
        Path f = Path.of("runs/cmp/cam/seed0/report.json");
        assertSame(report, Comparison.sameRecipe(f, report, c));
        cfg.put("cls.lr", "0.06");
        UserError e = assertThrows(UserError.class, () -> Comparison.sameRecipe(f, report, c));
        assertTrue(e.getMessage().startsWith(f + " was made with cls.lr = 0.06"), e.getMessage());
    }
}
