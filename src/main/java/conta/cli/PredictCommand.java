package conta.cli;

import conta.image.CamMaps;
import conta.error.UserError;
import conta.image.ImageCodec;
import conta.image.IndexPng;
import conta.image.Mask;
import conta.image.Overlay;
import conta.image.RgbImage;
import conta.pipeline.Methods;
import conta.train.Progress;
import conta.tensor.Backend;
import conta.wsss.BundleModel;
import conta.wsss.Cams;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
                + " classifier); --precision bf16 runs the inference plans in bfloat16 (auto: where the CPU has AMX).";
    }

    @Override public String summary() { return "label maps (and CAMs, overlays) for new images from a bundle or a pipeline run"; }

    @Override
    public int run(Args a) throws IOException {
        List<String> unknown = a.unknown(KNOWN);
        if (!unknown.isEmpty()) throw new UserError("unknown flag --" + unknown.getFirst() + "; " + USAGE);
        if (!a.has("model") || !a.has("images") || !a.has("out")) throw new UserError(USAGE);
        Path model = Path.of(a.require("model")), out = Path.of(a.require("out"));
        List<Path> images = images(a);
        boolean skipBad = a.getBool("skip-bad", false), overlay = a.getBool("overlay", false), wantCams = a.getBool("cams", false);
        Integer round = a.has("round") ? a.getInt("round", 0) : null;
        if (!Files.exists(model)) throw new UserError("--model " + model + " does not exist (give a bundle from `conta export` or a pipeline --out folder)");
        boolean run = Files.isDirectory(model);
        conta.infer.Precision precision = conta.infer.Precision.parse(a.get("precision", "fp32"));
        Files.createDirectories(out);
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
                boolean crf = a.has("crf") ? a.getBool("crf", false) : seg != null && seg.bundle.crfDefault();
                List<String> bad = new ArrayList<>();
                Progress bar = new Progress("predict", images.size(), 0);
                for (Path f : images) {
                    String id = stem(f);
                    RgbImage im;
                    try {
                        im = ImageCodec.read(f);
                        BundleModel.checkSize(im.w(), im.h(), "image " + f);
                    } catch (IOException | UserError e) {
                        if (!skipBad) throw new UserError(e.getMessage() + " (use --skip-bad to skip unreadable images)");
                        bad.add(f + ": " + e.getMessage());
                        bar.step(id);
                        continue;
                    }
                    Mask m;
                    if (seg != null) m = seg.segment(im, crf);
                    else {
                        CamMaps c = cls.cams(im);
                        c.save(out.resolve(id + ".npz"));
                        m = c.seeds(cls.bundle.camThreshold());
                    }
                    if (seg != null && cls != null) cls.cams(im).save(out.resolve(id + ".npz"));
                    IndexPng.write(out.resolve(id + ".png"), m);
                    if (overlay) {
                        var o = Overlay.render(im, m, (seg != null ? seg : cls).bundle.classNames(), (seg != null ? seg : cls).bundle.palette());
                        javax.imageio.ImageIO.write(o, "png", out.resolve(id + "_overlay.png").toFile());
                    }
                    bar.step(id);
                }
                bar.finish();
                System.err.println("wrote " + (images.size() - bad.size()) + " label maps to " + out
                        + (seg == null ? " (CAM seeds at background " + cls.bundle.camThreshold() + ", with CAMs as .npz)" : ""));
                if (!bad.isEmpty()) {
                    System.err.println("skipped " + bad.size() + " unreadable image(s):");
                    for (String s : bad) System.err.println("  " + s);
                }
            } finally {
                if (seg != null) seg.close();
                if (cls != null) cls.close();
            }
        }
        return 0;
    }

    /** --images values and the words after them: files, or folders of .jpg/.jpeg/.png/.bmp files (sorted). */
    static List<Path> images(Args a) throws IOException {
        List<String> given = new ArrayList<>(a.all("images"));
        given.addAll(a.positional());
        List<Path> out = new ArrayList<>();
        for (String g : given) {
            Path p = Path.of(g);
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.list(p)) {
                    s.filter(f -> Files.isRegularFile(f) && f.getFileName().toString().toLowerCase(Locale.ROOT).matches(".*\\.(jpe?g|png|bmp)"))
                            .sorted().forEach(out::add);
                }
            } else if (Files.exists(p)) out.add(p);
            else throw new UserError("--images " + p + " does not exist");
        }
        if (out.isEmpty()) throw new UserError("--images " + given + " holds no .jpg/.png/.bmp images");
        return out;
    }

    static String stem(Path f) {
        String n = f.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }
}
