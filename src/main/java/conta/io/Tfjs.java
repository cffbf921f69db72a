package conta.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * TensorFlow.js models: {@code model.json} ({@code modelTopology} + {@code weightsManifest}) and its binary shards.
 * Each manifest group's shards are concatenated in order and its weights laid out back to back.
 * {@link #toTorchNames} maps a Keras (MSRA/Caffe) ResNet-50 onto torchvision names and layouts.
 */
public final class Tfjs {
    private Tfjs() { }

    /** Weights with their tfjs names (e.g. {@code res2a_branch2a/kernel}) in manifest order, tfjs layouts (HWIO, [in,out]). */
    public static LinkedHashMap<String, HostArray> load(Path modelJson) throws IOException {
        Object json;
        try {
            json = Json.parse(Files.readString(modelJson));
        } catch (IllegalArgumentException e) {
            throw bad(modelJson, "not valid JSON (" + e.getMessage() + ")");
        }
        // model.json holds the manifest under weightsManifest; a bare weights_manifest.json is the list itself
        Object manifest = json instanceof Map<?, ?> m ? m.get("weightsManifest") : json;
        if (!(manifest instanceof List<?> groups))
            throw bad(modelJson, "no weightsManifest list; expected a TensorFlow.js model.json");
        Path dir = modelJson.toAbsolutePath().getParent();
        LinkedHashMap<String, HostArray> out = new LinkedHashMap<>();
        for (Object g : groups) {
            if (!(g instanceof Map<?, ?> group) || !(group.get("paths") instanceof List<?> paths) || !(group.get("weights") instanceof List<?> weights))
                throw bad(modelJson, "weightsManifest group without 'paths' and 'weights' lists");
            ByteBuffer data = concat(modelJson, dir, paths);
            int pos = 0;
            for (Object w : weights) {
                if (!(w instanceof Map<?, ?> spec) || !(spec.get("name") instanceof String name))
                    throw bad(modelJson, "weight entry without a name: " + w);
                if (spec.get("quantization") != null)
                    throw bad(modelJson, "weight '" + name + "' is quantized (" + spec.get("quantization")
                            + "); quantized models are not supported, convert the model again without --quantize_*");
                Object dtype = spec.get("dtype");
                RawType t = "float32".equals(dtype) ? RawType.F32 : "int32".equals(dtype) ? RawType.I32
                        : "bool".equals(dtype) ? RawType.BOOL : null;
                if (t == null) throw bad(modelJson, "weight '" + name + "' has unsupported dtype " + dtype + " (float32, int32, bool are read)");
                int[] shape = shape(modelJson, name, spec.get("shape"));
                int n = RawType.numel(shape, modelJson + ": weight '" + name + "'");
                long end = pos + (long) n * t.size;
                if (end > data.limit())
                    throw bad(modelJson, "weight '" + name + "' needs bytes " + pos + ".." + end + " but the shards " + paths
                            + " hold " + data.limit() + "; a shard is missing or truncated");
                if (out.containsKey(name)) throw bad(modelJson, "weight '" + name + "' appears twice");
                out.put(name, new HostArray(shape, t.decode(data, pos, n)));
                pos = (int) end;
            }
        }
        return out;
    }

    private static ByteBuffer concat(Path modelJson, Path dir, List<?> paths) throws IOException {
        long total = 0;
        List<Path> files = new ArrayList<>();
        for (Object p : paths) {
            if (!(p instanceof String s) || s.isEmpty()) throw bad(modelJson, "bad shard path " + p);
            Path f = dir.resolve(s).normalize();
            if (!f.startsWith(dir)) throw bad(modelJson, "shard path '" + s + "' leaves the model folder; refusing it");
            if (!Files.isRegularFile(f)) throw bad(modelJson, "shard " + f + " is missing; download every file listed in weightsManifest");
            total += Files.size(f);
            files.add(f);
        }
        if (total > Integer.MAX_VALUE - 8) throw bad(modelJson, "a weight group over 2 GB is not supported");
        ByteBuffer b = ByteBuffer.allocate((int) total);
        for (Path f : files) {
            try (InputStream in = Files.newInputStream(f)) {
                b.put(in.readAllBytes());
            }
        }
        return b.flip();
    }

    private static int[] shape(Path file, String name, Object o) {
        if (!(o instanceof List<?> l)) throw bad(file, "weight '" + name + "' has no shape list");
        int[] r = new int[l.size()];
        for (int k = 0; k < r.length; k++) {
            if (!(l.get(k) instanceof Long v) || v < 0 || v > Integer.MAX_VALUE) throw bad(file, "weight '" + name + "' has a bad shape " + l);
            r[k] = (int) (long) v;
        }
        return r;
    }

    private static IllegalArgumentException bad(Path file, String problem) {
        return new conta.error.FormatError(file + ": " + problem);
    }

    // ---------------- Keras ResNet -> torchvision names ----------------

    private static final Pattern STEM_CONV = Pattern.compile("conv1/(kernel|bias)");
    private static final Pattern STEM_BN = Pattern.compile("bn_conv1/(gamma|beta|moving_mean|moving_variance)");
    private static final Pattern CONV = Pattern.compile("res([2-5])([a-z])(\\d*)_branch(1|2[abc])/(kernel|bias)");
    private static final Pattern BN = Pattern.compile("bn([2-5])([a-z])(\\d*)_branch(1|2[abc])/(gamma|beta|moving_mean|moving_variance)");
    private static final Pattern FC = Pattern.compile("fc1000/(kernel|bias)");
    private static final List<String> MODULE_ORDER = List.of("conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "downsample.0", "downsample.1");
    private static final List<String> PARAM_ORDER = List.of("weight", "bias", "running_mean", "running_var");

    /** True when the names are those of a Keras ResNet (conv1, bn_conv1, res2a_branch2a, ...). */
    public static boolean isKerasResNet(Map<String, HostArray> w) {
        return w.containsKey("conv1/kernel") && w.containsKey("bn_conv1/gamma") && w.containsKey("res2a_branch2a/kernel");
    }

    /**
     * Renames a Keras (MSRA/Caffe) ResNet to torchvision names and layouts: conv kernels HWIO to OIHW, Dense
     * [in,out] to [out,in], BN gamma/beta/moving_mean/moving_variance to weight/bias/running_mean/running_var,
     * res2..res5 to layer1..layer4, blocks a,b,c.. (or Caffe's b1,b2,..) to 0,1,2.., branch2a/b/c to conv1/2/3,
     * branch1 to downsample.0/.1. The result is in torchvision's module order.
     */
    public static LinkedHashMap<String, HostArray> toTorchNames(Map<String, HostArray> keras) {
        record Named(String name, long order, HostArray value) { }
        List<Named> out = new ArrayList<>();
        for (Map.Entry<String, HostArray> e : keras.entrySet()) {
            String k = e.getKey();
            HostArray v = e.getValue();
            Matcher m;
            String module, param;
            long order;
            if ((m = STEM_CONV.matcher(k)).matches()) {
                module = "conv1";
                param = m.group(1);
                order = 0;
            } else if ((m = STEM_BN.matcher(k)).matches()) {
                module = "bn1";
                param = m.group(1);
                order = 1;
            } else if ((m = CONV.matcher(k)).matches() || (m = BN.matcher(k)).matches()) {
                boolean conv = k.startsWith("res");
                int stage = m.group(1).charAt(0) - '1';
                int block = m.group(3).isEmpty() ? m.group(2).charAt(0) - 'a' : Integer.parseInt(m.group(3));
                String branch = m.group(4);
                String part = branch.equals("1") ? (conv ? "downsample.0" : "downsample.1")
                        : (conv ? "conv" : "bn") + (branch.charAt(1) - 'a' + 1);
                module = "layer" + stage + "." + block + "." + part;
                param = m.group(5);
                order = ((stage * 1000L + block) * 10 + MODULE_ORDER.indexOf(part)) + 10;
            } else if ((m = FC.matcher(k)).matches()) {
                module = "fc";
                param = m.group(1);
                order = Long.MAX_VALUE / 10;
            } else {
                throw new IllegalArgumentException("weight '" + k + "' is not part of a Keras ResNet (expected conv1, bn_conv1, "
                        + "res<stage><block>_branch<1|2a|2b|2c>, bn<stage><block>_branch..., fc1000); convert without torch names");
            }
            String p = switch (param) {
                case "kernel", "gamma" -> "weight";
                case "beta" -> "bias";
                case "moving_mean" -> "running_mean";
                case "moving_variance" -> "running_var";
                default -> param; // bias
            };
            if (param.equals("kernel")) v = v.shape().length == 4 ? hwioToOihw(k, v) : transpose2d(k, v);
            out.add(new Named(module + "." + p, order * 10 + PARAM_ORDER.indexOf(p), v));
        }
        out.sort(Comparator.comparingLong(Named::order));
        LinkedHashMap<String, HostArray> r = new LinkedHashMap<>();
        for (Named n : out)
            if (r.put(n.name(), n.value()) != null) throw new IllegalArgumentException("two Keras weights map to " + n.name());
        return r;
    }

    /** Keras conv kernel [kh, kw, in, out] to torch [out, in, kh, kw]. */
    static HostArray hwioToOihw(String name, HostArray a) {
        int[] s = a.shape();
        int kh = s[0], kw = s[1], ci = s[2], co = s[3];
        float[] src = a.data(), dst = new float[src.length];
        for (int h = 0; h < kh; h++)
            for (int w = 0; w < kw; w++)
                for (int i = 0; i < ci; i++)
                    for (int o = 0; o < co; o++)
                        dst[((o * ci + i) * kh + h) * kw + w] = src[((h * kw + w) * ci + i) * co + o];
        return new HostArray(new int[]{co, ci, kh, kw}, dst);
    }

    /** Keras Dense kernel [in, out] to torch Linear [out, in]. */
    static HostArray transpose2d(String name, HostArray a) {
        if (a.shape().length != 2) throw new IllegalArgumentException("kernel '" + name + "' has shape " + a.shapeString() + ", expected 2-D or 4-D");
        int r = a.shape()[0], c = a.shape()[1];
        float[] src = a.data(), dst = new float[src.length];
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++) dst[j * r + i] = src[i * c + j];
        return new HostArray(new int[]{c, r}, dst);
    }
}
