package conta.synth;

import conta.data.ClassList;
import conta.data.LabelsCsv;
import conta.image.ImageCodec;
import conta.image.IndexPng;
import conta.io.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Writes a synthetic confounded dataset in VOC layout: JPEGImages/, SegmentationClass/ (palette PNGs, 255 borders),
 * ImageSets/Segmentation/{train,val,trainval}.txt, labels.csv, classes.txt, plus context.csv (the unlabelled contexts
 * and couplings of each image) and synth.json (the settings). Each image has its own seed derived from (seed, index),
 * so output is byte-identical for equal settings whatever the thread count.
 */
public final class SynthGenerator {
    private SynthGenerator() { }

    /**
     * bias: the strength of all three context problems; ambiguity / background / foreground: each problem's own
     * (P(rider on the horse | horse), P(water | boat) = P(rails | tram), P(sheep body like the ground | sheep)).
     */
    public record Config(long seed, int train, int val, int size, double bias, double ambiguity, double background, double foreground) {
        /** The most images of one split: ~3.4 ms each at 64 px on one core, so minutes, not days. */
        public static final int MAX_IMAGES = 100_000;

        public Config {
            if (train < 1 || val < 0) throw new IllegalArgumentException("--train must be >= 1 and --val >= 0");
            // a demo set, not a dataset: more would take hours and gigabytes without a word of progress
            if (train > MAX_IMAGES || val > MAX_IMAGES)
                throw new IllegalArgumentException("--train and --val are at most " + MAX_IMAGES + " images each (a synthetic demo set), got "
                        + train + " and " + val);
            if (size < 32 || size > 1024) throw new IllegalArgumentException("--size must be in 32..1024 pixels, got " + size);
            check("--bias", bias);
            check("--bias-ambiguity", ambiguity);
            check("--bias-background", background);
            check("--bias-foreground", foreground);
        }

        /** Every problem at strength bias. */
        public Config(long seed, int train, int val, int size, double bias) { this(seed, train, val, size, bias, bias, bias, bias); }

        private static void check(String flag, double p) {
            if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException(flag + " is a probability in [0,1], got " + p);
        }

        Scene.Strength strength() { return new Scene.Strength(ambiguity, background, foreground); }

        /** Small enough for the whole pipeline on 2 CPU cores in minutes. */
        public static Config defaults() { return new Config(0, 400, 100, 112, 0.8); }
    }

    public static List<String> classes() { return Scene.CLASSES; }

    static String id(int i) { return String.format("syn_%05d", i); }

    static long imageSeed(long seed, int i) {
        long z = seed * 0x9E3779B97F4A7C15L + (i + 1) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * The files under out that {@link #generate} with cfg would overwrite (paths relative to out, in the order it
     * writes them): empty for a new or empty folder, or one holding other files only.
     */
    public static List<String> wouldOverwrite(Path out, Config cfg) {
        List<String> names = new ArrayList<>();
        int n = cfg.train() + cfg.val();
        for (int i = 0; i < n; i++) names.add("JPEGImages/" + id(i) + ".jpg");
        for (int i = 0; i < n; i++) names.add("SegmentationClass/" + id(i) + ".png");
        names.addAll(List.of("ImageSets/Segmentation/train.txt", "ImageSets/Segmentation/val.txt", "ImageSets/Segmentation/trainval.txt",
                "labels.csv", "classes.txt", "context.csv", "synth.json"));
        return names.stream().filter(f -> Files.exists(out.resolve(f))).toList();
    }

    /** A few of wouldOverwrite's names for a message: "a, b, c and 12 more". */
    public static String few(List<String> names) {
        return String.join(", ", names.subList(0, Math.min(4, names.size()))) + (names.size() > 4 ? " and " + (names.size() - 4) + " more" : "");
    }

    public static void generate(Path out, Config cfg) throws IOException {
        Files.createDirectories(out.resolve("JPEGImages"));
        Files.createDirectories(out.resolve("SegmentationClass"));
        Files.createDirectories(out.resolve("ImageSets/Segmentation"));
        int n = cfg.train() + cfg.val();
        Scene.Rendered[] meta = new Scene.Rendered[n];
        IntStream.range(0, n).parallel().forEach(i -> {
            Scene.Rendered s = Scene.render(imageSeed(cfg.seed(), i), cfg.size(), cfg.strength());
            try {
                ImageCodec.writeJpeg(out.resolve("JPEGImages/" + id(i) + ".jpg"), s.image(), 92);
                IndexPng.write(out.resolve("SegmentationClass/" + id(i) + ".png"), s.mask());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write image " + id(i) + " under " + out + ": " + e.getMessage(), e);
            }
            meta[i] = new Scene.Rendered(null, null, s.labels(), s.contexts(), s.couplings());
        });
        List<String> train = new ArrayList<>(), val = new ArrayList<>(), ctx = new ArrayList<>();
        Map<String, int[]> labels = new LinkedHashMap<>();
        ctx.add("image_id,split,contexts,couplings");
        for (int i = 0; i < n; i++) {
            String split = i < cfg.train() ? "train" : "val";
            (i < cfg.train() ? train : val).add(id(i));
            labels.put(id(i), meta[i].labels());
            ctx.add(id(i) + "," + split + "," + String.join(";", meta[i].contexts()) + "," + String.join(";", meta[i].couplings()));
        }
        Path sets = out.resolve("ImageSets/Segmentation");
        Files.write(sets.resolve("train.txt"), train);
        Files.write(sets.resolve("val.txt"), val);
        List<String> tv = new ArrayList<>(train);
        tv.addAll(val);
        Files.write(sets.resolve("trainval.txt"), tv);
        LabelsCsv.write(out.resolve("labels.csv"), labels, Scene.CLASSES);
        ClassList.write(out.resolve("classes.txt"), Scene.CLASSES);
        Files.write(out.resolve("context.csv"), ctx);
        Map<String, Object> js = new LinkedHashMap<>();
        js.put("generator", "conta synth v1");
        js.put("seed", cfg.seed());
        js.put("train", cfg.train());
        js.put("val", cfg.val());
        js.put("size", cfg.size());
        js.put("bias", cfg.bias());
        js.put("strength", Map.of("object ambiguity", cfg.ambiguity(), "incomplete background", cfg.background(), "incomplete foreground", cfg.foreground()));
        js.put("classes", Scene.CLASSES);
        js.put("couplings", Map.of(
                "object ambiguity", "rider-on-horse: P(rider on the horse | horse) = strength.object ambiguity",
                "incomplete background", "boat-on-water, tram-on-rails: P(context | object) = strength.incomplete background; contexts are background (0)",
                "incomplete foreground", "sheep-body-follows-ground: P(body looks like the ground | sheep) = strength.incomplete foreground; the black head is constant"));
        Files.writeString(out.resolve("synth.json"), Json.writePretty(js) + "\n");
    }
}
