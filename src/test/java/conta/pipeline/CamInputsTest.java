package conta.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import conta.data.DataError;
import conta.data.Item;
import conta.data.Preprocess;
import conta.image.RgbImage;
import conta.image.Resampling;
import conta.wsss.Cams;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The CAM stage's look-ahead gives the images in order with the inputs Cams.inputs makes, a skipped image as null in
 * its place, an image without labels with no inputs, and a read error at its own turn, after the images before it.
 */
class CamInputsTest {
    @Test
    void orderInputsSkipsAndErrors() {
        Random r = new Random(5);
        List<String> ids = List.of("a", "b", "skip", "nolabels", "c", "bad");
        List<String> read = Collections.synchronizedList(new ArrayList<>());
        double[] scales = {1.0, 0.5, 1.5};
        java.util.Map<String, Item> items = new java.util.HashMap<>();
        for (String id : ids) {
            byte[] rgb = new byte[3 * 21 * 17];
            r.nextBytes(rgb);
            items.put(id, new Item(id, new RgbImage(21, 17, rgb), null, id.equals("nolabels") ? new int[0] : new int[]{2, 4}));
        }
        java.util.function.Function<String, Item> reader = id -> {
            read.add(id);
            if (id.equals("skip")) return null;
            if (id.equals("bad")) throw new DataError(id, java.nio.file.Path.of("bad.jpg"), "image bad.jpg is truncated");
            return items.get(id);
        };
        try (CamInputs ahead = new CamInputs(reader, Preprocess.IMAGENET, scales, Resampling.PIL, ids)) {
            for (String id : List.of("a", "b")) {
                CamInputs.Ready got = ahead.next();
                assertEquals(id, got.item().id());
                Cams.Inputs want = Cams.inputs(Preprocess.IMAGENET, items.get(id).image(), scales, Resampling.PIL);
                assertArrayEquals(want.sh(), got.inputs().sh());
                assertArrayEquals(want.sw(), got.inputs().sw());
                for (int i = 0; i < scales.length; i++) assertArrayEquals(want.chw()[i], got.inputs().chw()[i], 0f);
            }
            assertNull(ahead.next(), "skipped");
            CamInputs.Ready none = ahead.next();
            assertEquals("nolabels", none.item().id());
            assertEquals(0, none.inputs().chw().length);
            assertEquals("c", ahead.next().item().id());
            DataError e = assertThrows(DataError.class, ahead::next);
            assertEquals("image bad.jpg is truncated", e.getMessage());
            assertThrows(IllegalStateException.class, ahead::next, "no images left");
        }
        assertEquals(ids, read, "each image read once, in order");
    }
}
