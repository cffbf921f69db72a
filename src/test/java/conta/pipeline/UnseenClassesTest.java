package conta.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import conta.tensor.cpu.CpuBackend;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A user's labels that leave the classifier blind are said before the run: images without labels, classes without images. */
class UnseenClassesTest {
    @TempDir Path tmp;

    @Test
    void unlabelledImagesAndUnseenClassesAreSaid() throws Exception {
        Path r = conta.data.CustomSets.write(tmp.resolve("custom"), "background\ncat\ndog\nzebra\n", "a,cat\nb,dog\nc,\nd,cat;dog\n", 32,
                "a", "b", "c", "d");
        conta.config.Config c = RunGuardsTest.cfg();
        c.applySets(List.of("data.train=all", "data.val=all"));
        PrintStream was = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try (CpuBackend b = new CpuBackend(); Pipeline p = new Pipeline(c, r, tmp.resolve("out"), b)) {
            assertEquals(List.of("a", "b", "d"), p.trainIds);
        } finally {
            System.setErr(was);
        }
        List<String> lines = err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("note: 1 image") || l.startsWith("warning: no image")).toList();
        assertEquals(List.of("note: 1 image(s) of split all have no labels: the classifier and the CAMs leave them out",
                "warning: no image of split all has class zebra: the classifier never sees it (empty CAMs and IoU); label some images or drop the class from the class list"),
                lines);
    }
}
