package conta.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** README's generated numbers equal what the committed result files give (docs/readme_numbers.sh rewrites them). */
class ReadmeNumbersTest {
    @Test
    void readmeNumbersComeFromTheCommittedResults() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        for (String block : new String[]{"demo-table", "demo-leak", "demo-summary"})
            assertTrue(readme.contains("<!-- numbers:" + block + " -->"), "README has the generated block " + block);
        assertEquals(ReadmeNumbers.regenerate(readme), readme, "README numbers differ from docs/results: run docs/readme_numbers.sh");
    }

    @Test
    void aBlockIsRewrittenFromTheFile() throws Exception {
        String stale = "x\n<!-- numbers:demo-summary -->\nCAM seeds 1.00 (old)\n<!-- /numbers:demo-summary -->\ny\n";
        String fresh = ReadmeNumbers.regenerate(stale);
        assertTrue(fresh.startsWith("x\n<!-- numbers:demo-summary -->\nCAM seeds ") && fresh.endsWith("<!-- /numbers:demo-summary -->\ny\n"));
        assertTrue(!fresh.contains("(old)"), fresh);
    }
}
