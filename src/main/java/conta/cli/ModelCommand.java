package conta.cli;

import conta.error.UserError;
import conta.autograd.Tape;
import conta.io.HostArray;
import conta.io.Npy;
import conta.io.Safetensors;
import conta.io.WeightFiles;
import conta.models.Models;
import conta.models.Network;
import conta.nn.Module;
import conta.pipeline.Methods;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import conta.train.ModelStep;
import conta.train.Objective;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * `conta model forward|step`: run an architecture on an .npy batch with a checkpoint, the contract that the PyTorch
 * comparison checks use. Every user error is one line naming the file or flag.
 */
public final class ModelCommand implements Command {
    private static final List<String> COMMON = List.of("arch", "weights", "input", "output", "train-mode", "classes", "width",
            "blocks", "strides", "dilations", "scales", "seed", "strict", "device");
    private static final List<String> STEP = List.of("labels", "loss", "lr", "momentum", "weight-decay", "steps");

    static final String USAGE = """
            usage: conta model forward --arch ARCH [--weights FILE] --input X.npy --output Y.npy [--train-mode] [--classes K] [--width W]
                                       [--blocks 3,4,6,3] [--strides ...] [--dilations ...] [--scales ...] [--seed S] [--strict]
                                       [--device cpu|cuda:0|auto]
                   conta model step    (the same flags) --labels L.npy --loss ce|bce|multilabel-soft-margin --lr LR
                                       [--momentum 0] [--weight-decay 0] [--steps 1]
              forward: writes the network's output for the .npy batch; step: K SGD steps in training mode, writes the
              losses and the updated weights (the contract of the PyTorch comparison checks). --lr in (0, 100],
              --momentum in [0, 1), --weight-decay in [0, 1], --steps >= 0; --width in [1, 1024], --classes >= 1,
              --scales (DeepLab's MSC scales besides 1) each in (0, 4] or none; without --weights the network is randomly
              initialised from --seed; --device defaults to cpu. ARCH: %s""".formatted(String.join(", ", Models.ARCHS));

    @Override public String usage() { return USAGE; }

    @Override public String name() { return "model"; }

    @Override public String summary() { return "forward / SGD-step an architecture on .npy input (PyTorch-compatible checkpoints)"; }

    @Override
    public int run(Args a) throws Exception {
        if (a.positional().isEmpty()) throw new UserError("give forward or step\n" + USAGE);
        String verb = a.positional().getFirst();
        List<String> known = new java.util.ArrayList<>(COMMON);
        if (verb.equals("step")) known.addAll(STEP);
        List<String> unknown = a.unknown(known);
        if (!unknown.isEmpty()) throw new UserError("unknown flag --" + unknown.getFirst() + " for 'model " + verb + "'");
        if (!verb.equals("forward") && !verb.equals("step")) throw new UserError("unknown verb '" + verb + "' (forward or step)");
        StepFlags sf = verb.equals("step") ? StepFlags.of(a) : null; // checked before the network is built
        // cpu unless --device says otherwise (cuda:0, auto): the same contract checks PyTorch parity on any backend
        try (Backend b = Methods.backend(a.get("device", "cpu")); Network net = build(a, b)) {
            HostArray x = readInput(Path.of(a.require("input")));
            if (sf == null) forward(a, net, b, x);
            else step(a, sf, net, b, x);
        }
        return 0;
    }

    /** The largest --width / --classes a network is built with: config cls.width's bound; far above any real head. */
    static final int MAX_WIDTH = conta.wsss.ModelSpec.MAX_WIDTH, MAX_CLASSES = conta.wsss.ModelSpec.MAX_CLASSES;

    /** Refuses network sizes that cannot be built, naming the flag and its range (model, export --arch, bench). */
    static void checkNetworkFlags(Models.Options o) {
        if (o.width() != null && (o.width() < 1 || o.width() > MAX_WIDTH))
            throw new UserError("--width must be in [1, " + MAX_WIDTH + "] (the ResNet base width; 64 = the real network), got " + o.width());
        if (o.classes() != null && (o.classes() < 1 || o.classes() > MAX_CLASSES))
            throw new UserError("--classes must be in [1, " + MAX_CLASSES + "] (the network's outputs), got " + o.classes());
        if (o.scales() != null)
            for (double sc : o.scales())
                if (!(sc > 0 && sc <= conta.wsss.Bundle.MAX_SEG_SCALE))
                    throw new UserError("--scales " + Arrays.toString(o.scales()).replaceAll("[\\[\\] ]", "") + ": each scale must be in (0, "
                            + (int) conta.wsss.Bundle.MAX_SEG_SCALE + "] (DeepLab's MSC input scales besides 1, as config seg.msc), or none");
    }

    /** model step's optimisation flags, in range. */
    record StepFlags(float lr, float momentum, float weightDecay, int steps) {
        static StepFlags of(Args a) {
            if (!a.has("lr")) throw new UserError("missing required flag --lr (the SGD learning rate, in (0, 100])");
            double lr = a.getDouble("lr", 0), m = a.getDouble("momentum", 0), wd = a.getDouble("weight-decay", 0);
            int steps = a.getInt("steps", 1);
            if (!(lr > 0 && lr <= 100)) throw new UserError("--lr must be in (0, 100], got " + a.get("lr", ""));
            if (!(m >= 0 && m < 1)) throw new UserError("--momentum must be in [0, 1), got " + a.get("momentum", ""));
            if (!(wd >= 0 && wd <= 1)) throw new UserError("--weight-decay must be in [0, 1], got " + a.get("weight-decay", ""));
            if (steps < 0) throw new UserError("--steps must be >= 0 (SGD steps to take), got " + steps);
            return new StepFlags((float) lr, (float) m, (float) wd, steps);
        }
    }

    static Network build(Args a, Backend b) throws IOException {
        String arch = a.require("arch");
        if (!Models.ARCHS.contains(arch)) throw new UserError("unknown architecture '" + arch + "' (known: " + String.join(", ", Models.ARCHS) + ")");
        Models.Options o = new Models.Options(a.has("width") ? a.getInt("width", 64) : null, ints(a, "blocks"),
                a.has("classes") ? a.getInt("classes", 0) : null, ints(a, "strides"), ints(a, "dilations"), doubles(a, "scales"),
                (long) a.getInt("seed", 0));
        checkNetworkFlags(o);
        Network net;
        try {
            net = Models.build(arch, o, b);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        String w = a.get("weights", null);
        if (w == null) {
            System.err.println("conta: no --weights given: using random initialisation (seed " + a.getInt("seed", 0) + ")");
        } else {
            Path p = Path.of(w);
            Map<String, HostArray> state;
            try {
                state = WeightFiles.load(p);
            } catch (NoSuchFileException e) {
                net.close();
                throw new UserError("weights file not found: " + p);
            } catch (IOException | RuntimeException e) {
                net.close();
                throw new UserError("cannot read weights " + p + ": " + e.getMessage());
            }
            try {
                net.module().loadState(state, a.getBool("strict", true));
            } catch (IllegalArgumentException e) {
                net.close();
                throw new UserError(p + ": " + e.getMessage() + " (check --arch and the size flags)");
            }
        }
        return net;
    }

    static HostArray readInput(Path p) throws IOException {
        if (!Files.exists(p)) throw new UserError("input file not found: " + p);
        String dtype = Npy.dtype(p);
        if (!dtype.equals("<f4") && !dtype.equals("float32"))
            throw new UserError("input " + p + " has dtype " + dtype + "; expected float32 (x.astype(np.float32))");
        HostArray x = Npy.read(p);
        if (x.shape().length != 4 || x.shape()[1] != 3)
            throw new UserError("input " + p + " has shape " + x.shapeString() + "; expected N x 3 x H x W");
        return x;
    }

    private static void forward(Args a, Network net, Backend b, HostArray x) throws IOException {
        net.module().train(a.getBool("train-mode", false));
        Path out = Path.of(a.require("output"));
        try (Tape t = Tape.open(false); Tensor in = Tensor.of(b, x.data(), x.shape())) {
            Tensor y = net.forward(in);
            Npy.write(out, new HostArray(y.shape(), y.toArray()));
            System.out.println("wrote " + out + " " + y.shapeString());
        }
    }

    private static void step(Args a, StepFlags sf, Network net, Backend b, HostArray x) throws IOException {
        Objective obj;
        try {
            obj = Objective.parse(a.require("loss"));
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        Path lp = Path.of(a.require("labels"));
        if (!Files.exists(lp)) throw new UserError("labels file not found: " + lp);
        HostArray labels = Npy.read(lp);
        if (labels.shape().length == 0 || labels.shape()[0] != x.shape()[0])
            throw new UserError("labels " + lp + " have shape " + labels.shapeString() + " but the input batch is " + x.shape()[0]);
        int steps = sf.steps();
        Path out = Path.of(a.require("output"));
        float[] losses;
        try (Tensor in = Tensor.of(b, x.data(), x.shape())) {
            losses = ModelStep.run(net, in, labels.data(), labels.shape(), obj, sf.lr(), sf.momentum(), sf.weightDecay(), steps);
        } catch (IllegalArgumentException e) { // a NaN loss is ModelStep's Diverged, a UserError already
            throw new UserError(e.getMessage());
        }
        Module m = net.module();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("arch", a.require("arch"));
        meta.put("steps", Integer.toString(steps));
        meta.put("losses", Arrays.toString(losses));
        Safetensors.write(out, m.exportState(), meta);
        System.out.println("losses " + Arrays.toString(losses));
        System.out.println("wrote " + out);
    }

    static int[] ints(Args a, String key) {
        String v = a.get(key, null);
        if (v == null) return null;
        try {
            return Arrays.stream(v.split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
        } catch (NumberFormatException e) {
            throw new UserError("--" + key + " expects comma-separated integers, got '" + v + "'");
        }
    }

    static double[] doubles(Args a, String key) {
        String v = a.get(key, null);
        if (v == null) return null;
        if (v.isBlank() || v.equals("none")) return new double[0];
        try {
            return Arrays.stream(v.split(",")).mapToDouble(s -> Double.parseDouble(s.trim())).toArray();
        } catch (NumberFormatException e) {
            throw new UserError("--" + key + " expects comma-separated numbers, got '" + v + "'");
        }
    }
}
