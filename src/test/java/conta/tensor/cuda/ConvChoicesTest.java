package conta.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The graph path's saved engine choices: what a resumed run reads back is what the first run chose (no GPU needed). */
class ConvChoicesTest {
    @TempDir Path dir;

    @Test
    void aNewInstanceReadsBackTheChoicesOfItsContextOnly() throws Exception {
        Path f = dir.resolve("run/cudnn-choices.tsv"); // the folder is made on the first save
        ConvChoices first = new ConvChoices(f, "H200; cuDNN 91900; TF32 true");
        assertNull(first.get("fwd x[32, 64, 56, 56]"));
        first.put("fwd x[32, 64, 56, 56]", new ConvChoices.Choice(3, "engine 67", "heuristic"));
        first.put("bwd-data x[32, 64, 56, 56]", new ConvChoices.Choice(0, "engine 71", "heuristic"));
        first.put("fwd x[32, 64, 56, 56]", new ConvChoices.Choice(1, "engine 58 #9f2c", "measured")); // measured at its second use: the last line wins
        new ConvChoices(f, "A100; cuDNN 91900; TF32 true").put("fwd x[32, 64, 56, 56]", new ConvChoices.Choice(5, "engine 12", "top"));

        ConvChoices resumed = new ConvChoices(f, "H200; cuDNN 91900; TF32 true");
        assertEquals(new ConvChoices.Choice(1, "engine 58 #9f2c", "measured"), resumed.get("fwd x[32, 64, 56, 56]"));
        assertEquals(new ConvChoices.Choice(0, "engine 71", "heuristic"), resumed.get("bwd-data x[32, 64, 56, 56]"));
        assertEquals(new ConvChoices.Choice(5, "engine 12", "top"), new ConvChoices(f, "A100; cuDNN 91900; TF32 true").get("fwd x[32, 64, 56, 56]"));
        assertNull(new ConvChoices(f, "H200; cuDNN 91900; TF32 false").get("fwd x[32, 64, 56, 56]"), "another setting: nothing to replay");
        assertEquals(4, Files.readAllLines(f).size());
    }

    @Test
    void aMalformedLineNamesTheFileTheLineAndTheFix() throws Exception {
        Path f = dir.resolve("choices.tsv");
        Files.writeString(f, "ctx\tfwd\t2\tengine 1\theuristic\n\nctx\tfwd x[1]\tnot-a-rank\tengine 3\theuristic\n");
        // a FormatError: the CLI prints its line and exits 2, also when the pipeline attaches its run folder's file
        conta.error.FormatError e = assertThrows(conta.error.FormatError.class, () -> new ConvChoices(f, "ctx"));
        assertThrows(conta.error.FormatError.class, () -> new ConvChoices(null, "ctx").attach(f));
        assertTrue(e.getMessage().startsWith(f + ":3: "), e.getMessage());
        assertTrue(e.getMessage().contains("delete the file"), e.getMessage());
    }

    @Test
    void anUnterminatedLastLineFromAKilledRunIsSkippedAndCrlfIsRead() throws Exception {
        Path f = dir.resolve("choices.tsv");
        Files.writeString(f, "ctx\tfwd a\t2\tengine 1 #c0ffee\tmeasured\r\nctx\tfwd b\t"); // killed while appending
        ConvChoices c = new ConvChoices(f, "ctx");
        assertEquals(new ConvChoices.Choice(2, "engine 1 #c0ffee", "measured"), c.get("fwd a"));
        assertNull(c.get("fwd b"));
        c.put("fwd b", new ConvChoices.Choice(0, "engine 2 #beef", "measured")); // the resumed run saves on a line of its own
        ConvChoices again = new ConvChoices(f, "ctx");
        assertEquals(new ConvChoices.Choice(0, "engine 2 #beef", "measured"), again.get("fwd b"));
        assertEquals(c.get("fwd a"), again.get("fwd a"));
    }

    @Test
    void withoutAFileChoicesAreKeptInMemoryOnly() {
        ConvChoices c = new ConvChoices(null, "this process");
        c.put("bwd-filter x", new ConvChoices.Choice(4, "engine 62", "heuristic"));
        assertEquals(new ConvChoices.Choice(4, "engine 62", "heuristic"), c.get("bwd-filter x"));
    }

    @Test
    void searchModesParseAndAnUnknownOneIsNamed() {
        assertEquals(GraphEngines.Search.HEURISTIC, GraphEngines.search(null));
        assertEquals(GraphEngines.Search.MEASURE, GraphEngines.search("measure"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GraphEngines.search("fastest"));
        assertTrue(e.getMessage().contains("-Dconta.cuda.graphSearch=fastest"), e.getMessage());
    }

    @Test
    void aRunFolderGivenLaterGetsTheChoicesMadeSoFarAndItsOwnWin() throws Exception {
        // a process measures in memory until the pipeline names its run folder (CudaBackend.useRunFolder)
        ConvChoices c = new ConvChoices(null, "H200; TF32 true");
        c.put("fwd a", new ConvChoices.Choice(2, "engine 58 #aa", "measured"));
        c.put("fwd b", new ConvChoices.Choice(0, "engine 7 #bb", "heuristic"));
        c.put("fwd e", new ConvChoices.Choice(6, "engine 3 #ff", "measured"));
        Path f = dir.resolve("run/cuda-graph-choices.tsv");
        Files.createDirectories(f.getParent()); // a resumed run: its first part measured fwd b otherwise, fwd c, and fwd e alike
        Files.writeString(f, "H200; TF32 true\tfwd b\t3\tengine 9 #cc\tmeasured\nH200; TF32 true\tfwd c\t1\tengine 4 #dd\tmeasured\n"
                + "H200; TF32 true\tfwd e\t6\tengine 3 #ff\tmeasured\n");

        assertEquals(1, c.attach(f), "one choice made in memory differs from the file's (fwd e is the same: unchanged)");
        assertEquals(new ConvChoices.Choice(3, "engine 9 #cc", "measured"), c.get("fwd b"), "the file's choice wins: the resume repeats it");
        assertEquals(new ConvChoices.Choice(1, "engine 4 #dd", "measured"), c.get("fwd c"));
        assertEquals(new ConvChoices.Choice(2, "engine 58 #aa", "measured"), c.get("fwd a"));
        c.put("fwd d", new ConvChoices.Choice(5, "engine 1 #ee", "measured")); // later choices go to the file too

        ConvChoices next = new ConvChoices(f, "H200; TF32 true"); // the run resumed again, in a new process
        for (String k : new String[]{"fwd a", "fwd b", "fwd c", "fwd d", "fwd e"}) assertEquals(c.get(k), next.get(k), k);
        assertEquals(5, Files.readAllLines(f).size(), "fwd a and fwd d appended; fwd b and fwd e not written again");
        assertTrue(c.saved());
        assertEquals(0, new ConvChoices(null, "H200; TF32 true").attach(dir.resolve("none/x.tsv")), "nothing to change with an empty file");
    }
}
