package conta.cli;

import conta.image.CamMaps;
import conta.error.UserError;
import conta.image.ImageCodec;
import conta.image.IndexPng;
import conta.image.Mask;
import conta.image.Overlay;
import conta.image.RgbImage;
import conta.io.HostArray;
import conta.pipeline.Methods;
import conta.train.Progress;
import conta.tensor.Backend;
import conta.wsss.BundleModel;
import conta.wsss.Cams;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * `conta predict --model BUNDLE|RUN --images DIR|FILE... --out DIR [--crf] [--cams] [--overlay] [--device D] [--precision P] [--skip-bad]`:
 * full-resolution palette PNG label maps (the pipeline's pred/ function: multi-scale max-fused DeepLab, optional CRF),
 * CAM .npz files from a classifier bundle (or, with a run folder, from its classifier), overlays with a class legend.
 */
public final class PredictCommand implements Command {
    private static final List<String> KNOWN = List.of("model", "images", "out", "crf", "cams", "overlay", "device", "skip-bad", "round", "precision");
    private static final String USAGE = "usage: conta predict --model BUNDLE|RUN --images DIR|FILE... --out DIR [--crf] [--cams] [--overlay] "
            + "[--device cpu|cuda:0|auto] [--precision fp32|bf16|auto] [--skip-bad] [--round T]";

    @Override public String name() { return "predict"; }

    @Override public String usage() {
        return USAGE + "\n  " + summary() + "\n  --model: a bundle (conta export) or a pipeline run folder (its segmentation model, or with --cams its"
                + " classifier); a classifier writes ID.npz (CAMs of every class and its class scores) and ID.png, the CAM seeds of the"
                + " classes it scores >= 0.5; --precision bf16 runs the inference plans in bfloat16 (auto: where the CPU has AMX).";
    }

    @Override public String summary() { return "label maps (and CAMs, overlays) for new images from a bundle or a pipeline run"; }

    @Override
    public int run(Args a) throws IOException {
        List<String> unknown = a.unknown(KNOWN);
        if (!unknown.isEmpty()) throw new UserError("unknown flag --" + unknown.getFirst() + "; " + USAGE);
        a.requireAll(USAGE, "model", "images", "out");
        Path model = Path.of(a.require("model")), out = Path.of(a.require("out"));
        if (Files.exists(out) && !Files.isDirectory(out))
            throw new UserError("--out " + out + " is a file, not a folder; give a folder for the label maps (it is created if missing)");
        List<Path> images = images(a);
        boolean skipBad = a.getBool("skip-bad", false), overlay = a.getBool("overlay", false), wantCams = a.getBool("cams", false);
        Integer round = a.has("round") ? a.getInt("round", 0) : null;
        if (!Files.exists(model)) throw new UserError("--model " + model + " does not exist (give a bundle from `conta export` or a pipeline --out folder)");
        boolean run = Files.isDirectory(model);
        if (!run && looksOnnx(model))
            throw new UserError("--model " + model + " is an ONNX model: predict takes a bundle (conta export --format bundle, a .safetensors file) "
                    + "or a pipeline run folder; run ONNX models with ONNX Runtime (docs/onnx.md)");
        checkOutputs(a, images, out, overlay);
        conta.infer.Precision precision = conta.infer.Precision.parse(a.get("precision", "fp32"));
        try (Backend b = Methods.backend(a.get("device", "auto"))) {
            BundleModel seg = null, cls = null;
            try {
                if (run) {
                    seg = BundleModel.open(model, "seg", round, b, precision);
                    if (wantCams) cls = BundleModel.open(model, "cls", round, b, precision);
                } else {
                    BundleModel m = BundleModel.open(model, "seg", round, b, precision);
                    switch (m.bundle.stage()) {
                        case "seg" -> seg = m;
                        case "cls" -> cls = m;
                        default -> {
                            m.close();
                            throw new UserError(model + " is a boundary-branch model: predict needs a seg (DeepLab) or cls (classifier) bundle");
                        }
                    }
                    if (wantCams && cls == null) System.err.println("note: --cams needs a classifier bundle; " + model + " is a segmentation model, so no CAMs are written");
                }
                Files.createDirectories(out); // once the model opened: a refused model leaves no empty folder behind
                boolean crf = a.has("crf") ? a.getBool("crf", false) : seg != null && seg.bundle.crfDefault();
                List<String> bad = new ArrayList<>();
                Progress bar = new Progress("predict", images.size(), 0);
                for (Path f : images) {
                    String id = stem(f);
                    RgbImage im;
                    try {
                        im = ImageCodec.read(f, (w, h) -> BundleModel.checkSize(w, h, "image " + f)); // a huge image: refused from its header
                    } catch (IOException | UserError e) {
                        if (!skipBad) throw new UserError(e.getMessage() + " (use --skip-bad to skip unreadable images)");
                        bad.add(e.getMessage().contains(f.toString()) ? e.getMessage() : f + ": " + e.getMessage());
                        bar.step(id);
                        continue;
                    }
                    Mask m;
                    if (seg != null) m = seg.segment(im, crf);
                    else { // the seeds of the classes the classifier finds (the pipeline's seeds take the image's labels)
                        float[] p = cls.classProbabilities(im);
                        m = saveCams(cls, im, p, out.resolve(id + ".npz"))
                                .only(java.util.stream.IntStream.range(0, p.length).filter(k -> p[k] >= 0.5f).map(k -> k + 1).toArray())
                                .seeds(cls.bundle.camThreshold());
                    }
                    if (seg != null && cls != null) saveCams(cls, im, cls.classProbabilities(im), out.resolve(id + ".npz"));
                    IndexPng.write(out.resolve(id + ".png"), m);
                    if (overlay) {
                        var o = Overlay.render(im, m, (seg != null ? seg : cls).bundle.classNames(), (seg != null ? seg : cls).bundle.palette());
                        // encoded in memory, then written atomically as the label maps are: ImageIO.write to a File that
                        // cannot be written printed a stack trace and ended in an internal error (exit 1), and a kill
                        // could leave half an overlay
                        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
                        if (!javax.imageio.ImageIO.write(o, "png", png)) throw new IllegalStateException("no PNG writer for the overlay");
                        conta.io.AtomicWrite.write(out.resolve(id + "_overlay.png"), png.toByteArray());
                    }
                    bar.step(id);
                }
                bar.finish();
                int wrote = images.size() - bad.size();
                System.err.println("wrote " + wrote + " label map" + (wrote == 1 ? "" : "s") + " to " + out
                        + (seg == null ? " (CAM seeds of the classes scored >= 0.5, at background " + cls.bundle.camThreshold() + "; CAMs and scores as .npz)" : ""));
                if (!bad.isEmpty()) {
                    System.err.println("skipped " + bad.size() + " image" + (bad.size() == 1 ? "" : "s") + " it could not use:");
                    for (String s : bad) System.err.println("  " + s);
                }
            } finally {
                if (seg != null) seg.close();
                if (cls != null) cls.close();
            }
        }
        return 0;
    }

    /** Every class's CAMs of the image with the classifier's class probabilities ("scores") as ID.npz; the CAMs returned. */
    private static CamMaps saveCams(BundleModel cls, RgbImage im, float[] p, Path file) throws IOException {
        CamMaps c = cls.cams(im);
        c.save(file, Map.of("scores", new HostArray(new int[]{p.length}, p)));
        return c;
    }

    /** --images values and the words after them. */
    private static List<String> given(Args a) {
        List<String> given = new ArrayList<>(a.all("images"));
        given.addAll(a.positional());
        return given;
    }

    /**
     * --images values and the words after them: files, or folders of .jpg/.jpeg/.png/.bmp files (sorted); a file named
     * twice (itself and in its folder, say) is predicted once.
     */
    static List<Path> images(Args a) throws IOException {
        List<String> given = given(a);
        Map<Path, Path> out = new LinkedHashMap<>(); // the file itself -> as given
        for (String g : given) {
            Path p = Path.of(g);
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.list(p)) {
                    s.filter(f -> Files.isRegularFile(f) && ImageCodec.hasImageExtension(f.getFileName().toString()))
                            .sorted().forEach(f -> out.putIfAbsent(entry(f), f));
                }
            } else if (Files.exists(p)) out.putIfAbsent(entry(p), p);
            else throw new UserError("--images " + p + " does not exist");
        }
        if (out.isEmpty()) throw new UserError("--images " + given + " holds no .jpg/.png/.bmp images");
        return new ArrayList<>(out.values());
    }

    /**
     * Refuses, before anything is computed, an --out that is one of the --images folders, two images that would write
     * the same output file (a.jpg and a.png; a.jpg in two folders), and an output that would overwrite an input image.
     */
    static void checkOutputs(Args a, List<Path> images, Path out, boolean overlay) {
        Path o = canonical(out);
        for (String g : given(a))
            if (Files.isDirectory(Path.of(g)) && canonical(Path.of(g)).equals(o))
                throw new UserError("--out " + out + " is the --images folder " + g + ": the label maps would be written among (and over) the "
                        + "input images; choose another --out folder");
        Map<Path, Path> inputs = new HashMap<>();
        for (Path f : images) inputs.put(canonical(f), f);
        Map<String, Path> claimed = new HashMap<>(); // output file name -> the image that writes it
        for (Path f : images) {
            String id = stem(f);
            List<String> names = overlay ? List.of(id + ".png", id + ".npz", id + "_overlay.png") : List.of(id + ".png", id + ".npz");
            for (String n : names) {
                Path prev = claimed.putIfAbsent(n, f);
                if (prev != null)
                    throw new UserError("--images " + prev + " and " + f + " would both write " + n + " in --out " + out
                            + "; rename one of them or predict them into separate --out folders");
                Path in = inputs.get(canonical(out.resolve(n)));
                if (in != null)
                    throw new UserError("--out " + out + ": writing " + out.resolve(n) + " would overwrite the input image " + in
                            + "; choose another --out folder");
            }
        }
    }

    /**
     * The folder entry f names: its folder's real path and its own name. A file given itself and through its folder is
     * one entry; two names linked to one file (a symlink farm) stay two, each with its own output.
     */
    static Path entry(Path f) {
        Path abs = f.toAbsolutePath().normalize(), parent = abs.getParent();
        return parent == null ? abs : canonical(parent).resolve(abs.getFileName());
    }

    /** The file a path names (links resolved), for a path that does not exist yet its folder's and its name. */
    static Path canonical(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        try {
            return abs.toRealPath();
        } catch (IOException e) {
            Path parent = abs.getParent();
            return parent == null ? abs : canonical(parent).resolve(abs.getFileName());
        }
    }

    /** An ONNX file given where a bundle belongs: its name, or a protobuf ModelProto start (ir_version, then another field) where a safetensors header is not. */
    static boolean looksOnnx(Path f) {
        if (f.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx")) return true;
        byte[] b = new byte[9];
        try (var in = Files.newInputStream(f)) {
            if (in.readNBytes(b, 0, 9) < 9) return false;
        } catch (IOException e) {
            return false; // the bundle reader says what is wrong
        }
        return b[0] == 0x08 && b[1] > 0 && (b[2] == 0x12 || b[2] == 0x1a || b[2] == 0x3a || b[2] == 0x42) && b[8] != '{';
    }

    static String stem(Path f) {
        String n = f.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }
}
