package conta.data;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A data set asked for a split it does not have names the fix: for a custom set without splits/ --set data.train=all. */
class SplitHintTest {
    @Test
    void missingSplitSuggestsAll(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve("images"));
        Files.writeString(root.resolve("classes.txt"), "cat\n");
        Files.writeString(root.resolve("labels.csv"), "image_id,classes\na,cat\n");
        java.awt.image.BufferedImage im = new java.awt.image.BufferedImage(8, 8, java.awt.image.BufferedImage.TYPE_INT_RGB);
        javax.imageio.ImageIO.write(im, "png", root.resolve("images/a.png").toFile());
        CustomDataset ds = new CustomDataset(root, false);
        assertTrue(ds.ids("all").contains("a"));
        DataError e = assertThrows(DataError.class, () -> ds.ids("train"));
        assertTrue(e.getMessage().contains("no split 'train' (known: all)") && e.getMessage().contains("--set data.train=all"), e.getMessage());
    }

    /** The real COCO sample (one annotation file, val2017) asked for split 'train' names the split to pass. */
    @Test
    void missingCocoSplitNamesTheOneThereIs() {
        Dataset ds = Datasets.open(SharedData.coco(), false);
        DataError e = assertThrows(DataError.class, () -> ds.ids("train"));
        assertTrue(e.getMessage().contains("no split 'train' (known: val2017") && e.getMessage().contains("--set data.train=val2017 --set data.val=val2017"),
                e.getMessage());
    }
}
