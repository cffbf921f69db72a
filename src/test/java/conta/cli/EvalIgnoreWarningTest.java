package conta.cli;

import static org.junit.jupiter.api.Assertions.*;

import conta.image.IndexPng;
import conta.image.Mask;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `conta eval` of 0/255 binary masks: the 100% it prints comes with one warning line naming the mask folder. */
class EvalIgnoreWarningTest {
    @Test
    void binary255MasksGetOneWarning(@TempDir Path tmp) throws Exception {
        Path gt = Files.createDirectories(tmp.resolve("masks")), pred = Files.createDirectories(tmp.resolve("pred"));
        byte[] m = new byte[16];
        for (int i = 8; i < 16; i++) m[i] = (byte) 255;
        IndexPng.write(gt.resolve("x.png"), new Mask(4, 4, m));
        IndexPng.write(pred.resolve("x.png"), new Mask(4, 4, new byte[16]));
        ModelCommandErrorsTest.Result r = ModelCommandErrorsTest.run("eval", "--pred", pred.toString(), "--gt", gt.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("mIoU 100.00%"), r.out());
        assertEquals(1, r.err().lines().filter(l -> l.startsWith("warning:")).count(), r.err());
        assertTrue(r.err().contains("warning: the ground-truth masks of split all masks in " + gt + " hold no pixel of any"
                + " foreground class, only background and 255 (8 pixels): 255 means \"ignore\""), r.err());
    }
}
