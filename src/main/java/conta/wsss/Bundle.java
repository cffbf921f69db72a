package conta.wsss;

import conta.data.Preprocess;
import conta.error.UserError;
import conta.image.Palette;
import conta.io.ContaVersion;
import conta.io.Json;
import conta.io.Safetensors;
import conta.models.ResNetConfig;
import conta.config.Config;
import conta.wsss.crf.CrfParams;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a trained network needs to be used anywhere (docs/bundles.md): its architecture ({@link ModelSpec}), class
 * names and palette, input preprocessing, inference scales and flip, the CRF settings of segmentation and the conta
 * version. It travels as JSON in the safetensors metadata of the weights file under {@link #META_KEY}, so a bundle is
 * one file and every model.safetensors the pipeline writes is one.
 *
 * @param stage       cls (CAM classifier), irn (boundary branch) or seg (DeepLab)
 * @param classNames  every class with background at index 0 (a classifier's output i is class i + 1)
 * @param palette     RGB of each class (3 bytes per class)
 * @param scales      inference scales: CAM scales (summed) for cls; 1 then the MSC scales (max-fused) for seg
 * @param flip        whether each scale also runs mirrored (CAMs: yes; DeepLab's MSC: no)
 * @param crf         dense-CRF settings of segmentation post-processing (null for cls/irn)
 * @param crfDefault  whether the pipeline applied the CRF to its predictions (seg.crf)
 * @param camThreshold background score of CAM seeds (cls)
 */
public record Bundle(int version, String contaVersion, String stage, ModelSpec spec, List<String> classNames, byte[] palette,
                     Preprocess input, double[] scales, boolean flip, CrfParams crf, boolean crfDefault, double camThreshold) {
    /** The safetensors metadata key holding the bundle JSON. */
    public static final String META_KEY = "conta.bundle";
    /** The bundle format version this conta writes and the newest it reads. */
    public static final int FORMAT_VERSION = 1;

    /** The bundle of a pipeline stage's network under the run's config. */
    public static Bundle of(Config c, String stage, ModelSpec spec, List<String> classNames) {
        List<String> names = List.copyOf(classNames);
        byte[] pal = palette(names.size());
        return switch (stage) {
            case "seg" -> segmentation(spec, names, Backbones.input(c, "seg"), c.numbers("seg.msc"), c.bool("seg.crf"));
            case "cls" -> new Bundle(FORMAT_VERSION, ContaVersion.get(), stage, spec, names, pal, Backbones.input(c, "cls"),
                    c.numbers("cam.scales"), true, null, false, c.number("cam.bg_threshold"));
            case "irn" -> new Bundle(FORMAT_VERSION, ContaVersion.get(), stage, spec, names, pal, Backbones.input(c, "irn"),
                    new double[]{1}, true, null, false, 0);
            default -> throw new IllegalArgumentException("stage must be cls, irn or seg, got " + stage);
        };
    }

    /**
     * A segmentation bundle: the network at scale 1 and at its MSC scales msc (max fusion, no flip), deeplab-pytorch's
     * CRF settings, applied by default when crf.
     */
    public static Bundle segmentation(ModelSpec spec, List<String> classNames, Preprocess input, double[] msc, boolean crf) {
        List<String> names = List.copyOf(classNames);
        double[] sc = new double[1 + msc.length];
        sc[0] = 1;
        System.arraycopy(msc, 0, sc, 1, msc.length);
        return new Bundle(FORMAT_VERSION, ContaVersion.get(), "seg", spec, names, palette(names.size()), input, sc, false, CrfParams.DEEPLAB, crf, 0);
    }

    /** The VOC palette's first n colours (black beyond its 256). */
    private static byte[] palette(int n) {
        byte[] pal = new byte[3 * n];
        byte[] voc = Palette.voc();
        System.arraycopy(voc, 0, pal, 0, Math.min(pal.length, voc.length));
        return pal;
    }

    /** Safetensors metadata entries of this bundle (merged into a checkpoint's metadata). */
    public Map<String, String> meta() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(META_KEY, Json.write(toJson()));
        return m;
    }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", "conta-bundle");
        m.put("format_version", version);
        m.put("conta_version", contaVersion);
        m.put("stage", stage);
        m.put("model", spec.toJson());
        m.put("classes", new ArrayList<Object>(classNames));
        List<Object> pal = new ArrayList<>();
        for (int i = 0; i < classNames.size(); i++) pal.add(List.of(palette[3 * i] & 0xFF, palette[3 * i + 1] & 0xFF, palette[3 * i + 2] & 0xFF));
        m.put("palette", pal);
        m.put("input", input.name().toLowerCase(java.util.Locale.ROOT));
        Map<String, Object> inf = new LinkedHashMap<>();
        inf.put("scales", ModelSpec.list(scales));
        inf.put("flip", flip);
        inf.put("fusion", stage.equals("seg") ? "max" : "sum");
        if (stage.equals("cls")) inf.put("cam_bg_threshold", camThreshold);
        m.put("inference", inf);
        if (crf != null) {
            Map<String, Object> k = new LinkedHashMap<>();
            k.put("enabled", crfDefault);
            k.put("iterations", crf.iterations());
            k.put("gauss_sxy", (double) crf.gaussSxy());
            k.put("gauss_compat", (double) crf.gaussCompat());
            k.put("bilat_sxy", (double) crf.bilatSxy());
            k.put("bilat_srgb", (double) crf.bilatSrgb());
            k.put("bilat_compat", (double) crf.bilatCompat());
            m.put("crf", k);
        }
        return m;
    }

    /** Parses bundle JSON; a newer format version is refused with the versions named. */
    @SuppressWarnings("unchecked")
    public static Bundle fromJson(Map<String, Object> m, String where) {
        int v = ModelSpec.num(m, "format_version", where).intValue();
        String cv = String.valueOf(m.getOrDefault("conta_version", "unknown"));
        if (v > FORMAT_VERSION)
            throw new UserError(where + " is a bundle of format version " + v + " (written by conta " + cv + "); this conta (" + ContaVersion.get()
                    + ") reads format versions up to " + FORMAT_VERSION + ": upgrade conta to use it");
        if (v < 1) throw new UserError(where + ": bad bundle format_version " + v);
        try {
            ModelSpec spec = ModelSpec.fromJson((Map<String, Object>) ModelSpec.need(m, "model", where), where);
            List<String> names = ((List<Object>) ModelSpec.need(m, "classes", where)).stream().map(String::valueOf).toList();
            List<Object> pl = (List<Object>) ModelSpec.need(m, "palette", where);
            if (pl.size() != names.size()) throw new UserError(where + ": palette has " + pl.size() + " colours for " + names.size() + " classes");
            byte[] pal = new byte[3 * names.size()];
            for (int i = 0; i < pl.size(); i++) {
                List<Object> rgb = (List<Object>) pl.get(i);
                for (int j = 0; j < 3; j++) pal[3 * i + j] = (byte) ((Number) rgb.get(j)).intValue();
            }
            Map<String, Object> inf = (Map<String, Object>) ModelSpec.need(m, "inference", where);
            String stage = ModelSpec.str(m, "stage", where);
            CrfParams crf = null;
            boolean crfOn = false;
            if (m.get("crf") instanceof Map<?, ?> k0) {
                Map<String, Object> k = (Map<String, Object>) k0;
                crf = new CrfParams(ModelSpec.num(k, "iterations", where).intValue(), ModelSpec.num(k, "gauss_sxy", where).floatValue(),
                        ModelSpec.num(k, "gauss_compat", where).floatValue(), ModelSpec.num(k, "bilat_sxy", where).floatValue(),
                        ModelSpec.num(k, "bilat_srgb", where).floatValue(), ModelSpec.num(k, "bilat_compat", where).floatValue());
                crfOn = ModelSpec.bool(k, "enabled", where);
            }
            Preprocess input = Preprocess.parse(ModelSpec.str(m, "input", where), where + " input");
            double thr = inf.get("cam_bg_threshold") instanceof Number n ? n.doubleValue() : 0;
            Bundle b = new Bundle(v, cv, stage, spec, names, pal, input, ModelSpec.doubles(inf, "scales", where), ModelSpec.bool(inf, "flip", where),
                    crf, crfOn, thr);
            b.check(where);
            return b;
        } catch (ClassCastException | IllegalArgumentException e) {
            throw new UserError(where + ": malformed bundle description (" + e.getMessage() + ")");
        }
    }

    private void check(String where) {
        int expect = switch (stage) {
            case "seg" -> spec.classes();
            case "cls" -> spec.classes() + 1;
            default -> classNames.size();
        };
        if (classNames.size() != expect)
            throw new UserError(where + ": " + classNames.size() + " class names for a " + stage + " network with " + spec.classes() + " outputs");
        if (scales.length == 0) throw new UserError(where + ": inference.scales is empty");
        double max = stage.equals("cls") ? MAX_CAM_SCALE : MAX_SEG_SCALE;
        for (double[] sc : new double[][]{scales, spec.msc()})
            for (double x : sc)
                if (!(x > 0 && x <= max))
                    throw new UserError(where + ": inference scale " + x + " of " + Arrays.toString(sc) + " is outside (0, " + (int) max
                            + "] (an input scale); re-export the model with valid --scales");
    }

    /** The largest input scale a bundle may name: config seg.msc's bound for segmentation, cam.scales' for CAMs. */
    public static final double MAX_SEG_SCALE = 4, MAX_CAM_SCALE = 8;

    /** "ONNX" or "PyTorch" where a file's name (.onnx, .pth, .pt) says it holds another format than a bundle, else null. */
    public static String otherFormat(Path file) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        return name.endsWith(".onnx") ? "ONNX" : name.endsWith(".pth") || name.endsWith(".pt") ? "PyTorch" : null;
    }

    /** The bundle held in a weights file's metadata, or null if it has none (a file written before bundles). */
    public static Bundle readMeta(Path file) {
        String other = otherFormat(file);
        if (other != null) // another kind of file, not a damaged bundle
            throw new UserError(file + " is " + (other.equals("ONNX") ? "an ONNX model" : "a PyTorch checkpoint") + ", not a conta bundle (the "
                    + ".safetensors that conta export writes)" + (other.equals("ONNX") ? "" : "; bundle a DeepLab-v2 checkpoint with `conta export --arch "
                    + "deeplabv2-resnet101 --weights " + file + " --out B.safetensors`"));
        Map<String, String> meta;
        try {
            meta = Safetensors.metadata(file);
        } catch (IOException | RuntimeException e) {
            throw RunModels.damaged(file, e);
        }
        String j = meta.get(META_KEY);
        if (j == null) return null;
        try {
            return fromJson(Json.parseObject(j), file.toString());
        } catch (IllegalArgumentException e) {
            throw new UserError(file + ": the bundle description is not valid JSON (" + e.getMessage() + ")");
        }
    }

    /** True for a classifier whose inference needs CONTA's per-image context map (rounds >= 1 of a CONTA run). */
    public boolean needsContext() { return spec.backbone().contextChannels() > 0; }

    /** The number of outputs of the network's label map / CAMs (with background for seg, without for cls). */
    public int outputs() { return spec.classes(); }

    static ResNetConfig noContext(ResNetConfig c) { return c.withContext(0, ResNetConfig.BLOCK5); }

    /** Where a path names a weights file: the file itself, or for a run folder its newest finished round's stage model. */
    public static Path modelFile(Path p, String stage, Integer round) {
        if (!Files.exists(p)) throw new UserError("model " + p + " does not exist (give a bundle file or a pipeline --out folder)");
        if (!Files.isDirectory(p)) {
            if (round != null) // it used to be ignored: a bundle holds one model, of whatever round it was exported from
                throw new UserError("--round " + round + " picks a round of a pipeline run folder, but " + p + " is a model file (one model): "
                        + "leave out --round, or give the run folder");
            return p;
        }
        return RunModels.find(p, stage, round);
    }
}
