package conta.eval;

import static org.junit.jupiter.api.Assertions.*;

import conta.cli.Main;
import conta.data.DataError;
import conta.image.IndexPng;
import conta.image.Mask;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** eval --list: whole lines as ids, BOM, duplicates. */
class EvalListTest {
    @TempDir Path tmp;

    @Test
    void listIdsWithSpacesBomAndDuplicates() throws Exception {
        Path gt = Files.createDirectories(tmp.resolve("gt")), pred = Files.createDirectories(tmp.resolve("pred"));
        for (String id : List.of("my photo 1", "my")) {
            IndexPng.write(gt.resolve(id + ".png"), new Mask(1, 2, new byte[]{0, 1}));
            IndexPng.write(pred.resolve(id + ".png"), new Mask(1, 2, new byte[]{0, id.equals("my") ? (byte) 0 : 1}));
        }
        Path list = tmp.resolve("mine.txt");
        Files.writeString(list, "\uFEFFmy photo 1\n");
        GroundTruth g = GroundTruth.open(gt, list, null, null);
        assertEquals(List.of("my photo 1"), g.ids());
        assertEquals(1.0, Evaluator.masks(g, pred).miou(), 1e-12);
        Files.writeString(list, "my photo 1\nmy\nmy photo 1\n");
        DataError e = assertThrows(DataError.class, () -> GroundTruth.open(gt, list, null, null));
        assertEquals("list " + list + " names image my photo 1 twice (lines 1 and 3); remove one of the lines", e.getMessage());
        assertEquals(2, Main.run(new String[]{"eval", "--pred", pred.toString(), "--gt", gt.toString(), "--list", list.toString()}));
    }
}
