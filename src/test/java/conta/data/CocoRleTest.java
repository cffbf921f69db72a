package conta.data;

import static org.junit.jupiter.api.Assertions.*;

import conta.io.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-checked COCO rasterisation (values cross-checked with pycocotools 2.0.11). */
class CocoRleTest {
    private static int[][] grid(byte[] m, int h, int w) {
        int[][] g = new int[h][w];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) g[y][x] = m[y * w + x] & 0xFF;
        return g;
    }

    @Test
    void squarePolygonCoversPixelsWhoseCentresAreInside() {
        // square with corners (1,1)..(4,4): pixel centres x+.5 in (1,4) -> columns 1..3, rows 1..3
        byte[] out = new byte[36];
        CocoDataset.paint(Json.parse("[[1,1,4,1,4,4,1,4]]"), 6, 6, out, (byte) 7, false);
        int[][] want = {{0, 0, 0, 0, 0, 0}, {0, 7, 7, 7, 0, 0}, {0, 7, 7, 7, 0, 0}, {0, 7, 7, 7, 0, 0}, {0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0}};
        assertArrayEquals(want, grid(out, 6, 6));
    }

    @Test
    void trianglePolygonAndItsCompressedString() {
        long[] cnts = CocoRle.fromPolygon(new double[]{0.5, 0.5, 5.5, 0.5, 0.5, 5.5}, 7, 7);
        assertEquals("843O1O1O>", CocoRle.toString(cnts));
        byte[] out = new byte[49];
        CocoRle.paint(cnts, 7, 7, out, (byte) 1, false);
        int[][] want = {{0, 0, 0, 0, 0, 0, 0}, {0, 1, 1, 1, 1, 0, 0}, {0, 1, 1, 1, 0, 0, 0}, {0, 1, 1, 0, 0, 0, 0},
                {0, 1, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0}};
        assertArrayEquals(want, grid(out, 7, 7));
    }

    @Test
    void compressedAndUncompressedRle() {
        // counts [5,2,2,2,5] column-major on 4x4: pixels 5,6,9,10 -> (x1,y1),(x1,y2),(x2,y1),(x2,y2)
        assertArrayEquals(new long[]{5, 2, 2, 2, 5}, CocoRle.fromString("52203"));
        assertEquals("52203", CocoRle.toString(new long[]{5, 2, 2, 2, 5}));
        int[][] want = {{0, 0, 0, 0}, {0, 3, 3, 0}, {0, 3, 3, 0}, {0, 0, 0, 0}};
        byte[] a = new byte[16], b = new byte[16];
        CocoDataset.paint(Json.parse("{\"counts\":\"52203\",\"size\":[4,4]}"), 4, 4, a, (byte) 3, false);
        CocoDataset.paint(Json.parse("{\"counts\":[5,2,2,2,5],\"size\":[4,4]}"), 4, 4, b, (byte) 3, false);
        assertArrayEquals(want, grid(a, 4, 4));
        assertArrayEquals(want, grid(b, 4, 4));
        // large counts round-trip (multi-char numbers, negative deltas)
        long[] big = {1000, 37, 12000, 5, 3, 900000, 1};
        assertArrayEquals(big, CocoRle.fromString(CocoRle.toString(big)));
        boolean[] m = new boolean[12];
        m[1] = m[2] = m[7] = true;
        long[] enc = CocoRle.encode(m, 3, 4);
        byte[] back = new byte[12];
        CocoRle.paint(enc, 3, 4, back, (byte) 1, false);
        for (int i = 0; i < 12; i++) assertEquals(m[i] ? 1 : 0, back[i]);
    }

    @Test
    void cocoJsonWithPolygonsRleAndCrowdRasterises(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Files.createDirectories(tmp.resolve("annotations"));
        java.nio.file.Files.createDirectories(tmp.resolve("val2014"));
        conta.image.ImageCodec.writeJpeg(tmp.resolve("val2014/COCO_val2014_000000000001.jpg"),
                new conta.image.RgbImage(6, 6, new byte[108]), 90);
        String js = """
            {"images":[{"id":1,"file_name":"COCO_val2014_000000000001.jpg","height":6,"width":6}],
             "categories":[{"id":90,"name":"toothbrush"},{"id":1,"name":"person"},{"id":3,"name":"car"}],
             "annotations":[
              {"id":1,"image_id":1,"category_id":3,"iscrowd":0,"segmentation":[[1,1,4,1,4,4,1,4]]},
              {"id":2,"image_id":1,"category_id":90,"iscrowd":0,"segmentation":{"counts":"52203","size":[6,6]}},
              {"id":3,"image_id":1,"category_id":1,"iscrowd":1,"segmentation":{"counts":[24,12],"size":[6,6]}}]}""";
        java.nio.file.Files.writeString(tmp.resolve("annotations/instances_val2014.json"), js);
        Dataset ds = Datasets.open(tmp, false);
        assertEquals(List.of("background", "person", "car", "toothbrush"), ds.classNames());
        assertEquals(List.of("COCO_val2014_000000000001"), ds.ids("val"));
        assertArrayEquals(new int[]{1, 2, 3}, ds.labels("COCO_val2014_000000000001"));
        // car square rows/cols 1..3; toothbrush RLE column-major pixels 5,6,9,10 =
        // (x0,y5),(x1,y0),(x1,y3),(x1,y4) on top; crowd = columns 4,5 -> 255 where bg
        int[][] want = {
                {0, 3, 0, 0, 255, 255},
                {0, 2, 2, 2, 255, 255},
                {0, 2, 2, 2, 255, 255},
                {0, 3, 2, 2, 255, 255},
                {0, 3, 0, 0, 255, 255},
                {3, 0, 0, 0, 255, 255}};
        assertArrayEquals(want, grid(ds.mask("COCO_val2014_000000000001").data(), 6, 6));
    }
}
