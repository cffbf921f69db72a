package conta.onnx;

import conta.autograd.F;
import conta.io.AtomicWrite;
import conta.autograd.Tape;
import conta.models.DeepLabV2;
import conta.models.Network;
import conta.models.ResNet;
import conta.models.ResNetConfig;
import conta.tensor.Backend;
import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a conta network as an ONNX model (opset {@value #OPSET}) by tracing its own forward (see {@link Tracer}):
 *
 * <ul>
 *   <li>a CAM classifier ({@link ResNet} with the 1x1 CAM head, e.g. resnet50-os16): outputs {@code logits}
 *       [N, classes] (the forward: pooled features through the head) and {@code cam} [N, classes, h, w], the class
 *       activation map ReLU(1x1 classifier over the features) at the feature grid, before pooling, as
 *       {@code Cams.compute} takes it per scale (the multi-scale/flip merge and normalisation stay outside);</li>
 *   <li>a torchvision ResNet (fc head): {@code logits} [N, classes];</li>
 *   <li>DeepLab-v2: {@code logits} [N, classes, h, w] at stride 8, the multi-scale forward included (the input resized by
 *       each of the model's scales, each branch's ASPP sum resized to scale 1, elementwise max), as the pipeline's
 *       prediction computes it; resizing to the image and softmax/argmax stay outside.</li>
 * </ul>
 *
 * The input is {@code image} [N, 3, H, W] float32, preprocessed as the network was trained; N, H and W are dynamic. A
 * network with CONTA's context map M takes it as a second input {@code context} [N, K, h, w] (any h, w: it is resized in
 * the graph to each grid where M joins, as in the model). Frozen / eval batch norm is folded into the preceding
 * convolution's weight and bias.
 */
public final class OnnxExporter {
    private OnnxExporter() { }

    public static final int OPSET = 17;

    /**
     * The input sizes traced: the first makes the graph; the others pick, per resize, the rule that holds at every size.
     * Heights and widths cover six residues mod 8 each, as sizes of different values can agree at some sizes only (e.g.
     * DeepLab's half-scale branch after its stem and the scale-1 logits agree unless the side is 6 mod 8).
     */
    static final int[][] TRACE_SIZES = {{67, 85}, {77, 62}, {96, 104}, {70, 91}, {81, 76}, {58, 71}};

    /** What was written. */
    public record Result(Path file, List<String> inputs, List<String> outputs, int nodes, long weights, List<String> notes) { }

    /** The traced function: image (and context, or null) to named outputs. */
    private interface Forward { Map<String, Tensor> run(Tensor image, Tensor context); }

    /**
     * Exports the network (on any backend) to file.
     *
     * @param metadata extra key/value pairs stored in the model's metadata_props (e.g. arch, preprocessing)
     */
    public static Result export(Network net, Path file, Map<String, String> metadata) throws IOException {
        // the trace's own tensors live in host memory whatever the network's device; parameters are read via their backend
        Backend cpu = new CpuBackend(CpuBackend.ConvImpl.BLAS);
        boolean wasTraining = net.module().isTraining();
        net.module().train(false);
        try {
            Map<String, String> outputDoc = new LinkedHashMap<>();
            Forward f = forward(net, outputDoc);
            int context = net instanceof ResNet r ? r.config.contextChannels() : 0;
            double[] hints = net instanceof DeepLabV2 d ? d.scales() : new double[0];
            List<Tracer> others = new ArrayList<>();
            for (int i = TRACE_SIZES.length - 1; i >= 1; i--) others.add(trace(cpu, f, context, hints, List.of(), TRACE_SIZES[i]));
            Tracer t = trace(cpu, f, context, hints, others, TRACE_SIZES[0]);
            for (Tracer o : others)
                if (o.produced.size() != t.produced.size() || o.resizes.size() != t.resizes.size())
                    throw new IllegalStateException("ONNX export: the network runs different ops at different input sizes; it cannot be exported as one graph");
            t.g.pruneConstants();
            t.g.dedupeConstants(); // a weight the forward reads more than once (DeepLab's MSC branches) is stored once
            long weights = 0;
            for (OnnxGraph.Constant k : t.g.constants.values()) if (k.floats() != null) weights += k.floats().length;
            Map<String, String> meta = new LinkedHashMap<>(metadata);
            meta.put("conta.batch_norm", "folded into the preceding convolutions");
            outputDoc.forEach((k, v) -> meta.put("conta.output." + k, v));
            if (!t.notes.isEmpty()) meta.put("conta.export_notes", String.join("; ", t.notes));
            String version = OnnxExporter.class.getPackage().getImplementationVersion();
            AtomicWrite.write(file, ch -> {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 20);
                OnnxWriter.write(out, t.g, OPSET, version == null ? "dev" : version,
                        "conta network exported by tracing its forward; input 'image' N x 3 x H x W float32", meta);
                out.flush(); // not closed: AtomicWrite fsyncs and closes the channel
            });
            return new Result(file, t.g.inputs.stream().map(OnnxGraph.Port::name).toList(), t.g.outputs.stream().map(OnnxGraph.Port::name).toList(),
                    t.g.nodes.size(), weights, List.copyOf(t.notes));
        } finally {
            net.module().train(wasTraining);
        }
    }

    /** The outputs of each kind of network, computed by the model's own methods. */
    private static Forward forward(Network net, Map<String, String> doc) {
        if (net instanceof ResNet r && r.config.head() == ResNetConfig.Head.CAM) {
            doc.put("logits", "N x classes: the classifier's forward (global average pool, 1x1 classifier)");
            doc.put("cam", "N x classes x h x w: ReLU(1x1 classifier over the features) at the feature grid, before pooling");
            return (x, ctx) -> {
                Tensor feats = r.withContext(r.features(x, ctx), ctx);
                Map<String, Tensor> m = new LinkedHashMap<>();
                m.put("logits", r.head(feats));
                m.put("cam", F.relu(F.conv2d(feats, r.camWeight(), null, ConvSpec.of(1, 1, 0, 1))));
                return m;
            };
        }
        if (net instanceof ResNet r) {
            doc.put(r.config.head() == ResNetConfig.Head.NONE ? "features" : "logits",
                    r.config.head() == ResNetConfig.Head.NONE ? "N x C x h x w: last-stage features" : "N x classes");
            return (x, ctx) -> Map.of(r.config.head() == ResNetConfig.Head.NONE ? "features" : "logits", r.forward(x, ctx));
        }
        if (net instanceof DeepLabV2 d) {
            doc.put("logits", "N x classes x h x w at stride 8: " + (d.scales().length == 0 ? "single scale"
                    : "max over scale 1 and scales " + java.util.Arrays.toString(d.scales()) + " (MSC), as the pipeline predicts"));
            return (x, ctx) -> Map.of("logits", d.forward(x));
        }
        doc.put("output", "the network's forward");
        return (x, ctx) -> Map.of("output", net.forward(x));
    }

    private static Tracer trace(Backend cpu, Forward f, int contextChannels, double[] hints, List<Tracer> others, int[] hw) {
        Tracer t = new Tracer(cpu, hints, others, others.isEmpty() && hw != TRACE_SIZES[0]);
        SplittableRandom r = new SplittableRandom(hw[0] * 31L + hw[1]);
        int h = hw[0], w = hw[1];
        Tensor image = t.input("image", random(3 * h * w, r), new int[]{1, 3, h, w}, new Object[]{"batch", 3, "height", "width"});
        Tensor ctx = null;
        // larger than every feature grid, so the model resizes it (a context already at a grid's size skips the resize)
        if (contextChannels > 0)
            ctx = t.input("context", random(contextChannels * (h + 1) * (w + 1), r), new int[]{1, contextChannels, h + 1, w + 1},
                    new Object[]{"batch", contextChannels, "context_height", "context_width"});
        try (Tape tape = Tape.open(false)) {
            Map<String, Tensor> outs = f.run(image, ctx);
            for (var e : outs.entrySet()) {
                Tensor y = e.getValue();
                Object[] dims = new Object[y.rank()];
                dims[0] = "batch";
                if (y.rank() > 1) dims[1] = y.dim(1);
                for (int i = 2; i < dims.length; i++) dims[i] = e.getKey() + (i == 2 ? "_height" : "_width");
                t.output(e.getKey(), y, dims);
            }
        } finally {
            image.close();
            if (ctx != null) ctx.close();
        }
        return t;
    }

    private static float[] random(int n, SplittableRandom r) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }
}
