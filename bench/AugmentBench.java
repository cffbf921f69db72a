// Host cost of the training loaders' work per image on one thread: decode of a VOC photo and its mask, then the
// augmentation of the CAM classifier (IRNet: long side 320-640, flip, 512 crop) and of DeepLab-v2 (scale 0.5-1.5,
// flip, 321 crop), three rounds. Usage (after mvn package):
//   $JAVA_HOME/bin/java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp "target/classes:target/lib/*" \
//       bench/AugmentBench.java ../shared/data/voc2012-sample/JPEGImages
import conta.data.*;
import conta.image.*;
import java.nio.file.*;
import java.util.*;

public class AugmentBench {
    public static void main(String[] a) throws Exception {
        List<Path> files = new ArrayList<>();
        try (var s = Files.list(Path.of(a[0]))) { s.filter(p -> p.toString().endsWith(".jpg")).sorted().forEach(files::add); }
        AugmentSpec[] specs = {AugmentSpec.irnCam(512), AugmentSpec.deeplab(321)};
        String[] names = {"irnCam(512)", "deeplab(321)"};
        for (int round = 0; round < 3; round++) {
            for (int k = 0; k < specs.length; k++) {
                SplittableRandom rng = new SplittableRandom(round);
                long dec = 0, aug = 0;
                for (Path f : files) {
                    long t0 = System.nanoTime();
                    RgbImage im = ImageCodec.read(f);
                    Mask m = IndexPng.read(f.getParent().resolveSibling("SegmentationClass").resolve(f.getFileName().toString().replace(".jpg", ".png")));
                    long t1 = System.nanoTime();
                    Augment.apply(new Item(f.toString(), im, m, new int[]{1}), specs[k], rng);
                    long t2 = System.nanoTime();
                    dec += t1 - t0; aug += t2 - t1;
                }
                int n = files.size();
                System.out.printf("%s: decode+mask %.1f ms, augment %.1f ms per image (one thread)%n", names[k], dec / 1e6 / n, aug / 1e6 / n);
            }
        }
    }
}
