package conta.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import conta.autograd.Tape;
import conta.models.Network;
import conta.nn.BatchNorm2d;
import conta.tensor.Tensor;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/** Runs exported models in ONNX Runtime and compares them with conta's own forward. */
public final class OrtCheck {
    private OrtCheck() { }

    static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
    /** The bar: outputs agree within 1e-4 relative, per element (atol + rtol * |ref|). */
    static final double RTOL = 1e-4;

    public static OrtSession open(Path model) throws Exception {
        return ENV.createSession(model.toString(), new OrtSession.SessionOptions());
    }

    /** ORT's outputs by name for the given float inputs (name -> {shape as float[] of dims, data}). */
    public static Map<String, float[]> run(OrtSession s, Map<String, long[]> shapes, Map<String, float[]> data) throws Exception {
        Map<String, OnnxTensor> in = new LinkedHashMap<>();
        try {
            for (var e : data.entrySet()) in.put(e.getKey(), OnnxTensor.createTensor(ENV, FloatBuffer.wrap(e.getValue()), shapes.get(e.getKey())));
            Map<String, float[]> out = new LinkedHashMap<>();
            try (OrtSession.Result r = s.run(in)) {
                for (var e : r) {
                    OnnxTensor t = (OnnxTensor) e.getValue();
                    FloatBuffer fb = t.getFloatBuffer();
                    float[] v = new float[fb.remaining()];
                    fb.get(v);
                    out.put(e.getKey(), v);
                    shapesOut.put(e.getKey(), t.getInfo().getShape());
                }
            }
            return out;
        } finally {
            for (OnnxTensor t : in.values()) t.close();
        }
    }

    /** Shapes of the last run's outputs. */
    static final Map<String, long[]> shapesOut = new LinkedHashMap<>();

    /** Per element |a - b| <= atol + RTOL * |b|, atol = RTOL * max |b| (a scale for values near zero). */
    static void assertClose(float[] expected, float[] actual, String what) {
        assertTrue(expected.length == actual.length, what + ": " + actual.length + " values, expected " + expected.length);
        double max = 0;
        for (float v : expected) max = Math.max(max, Math.abs(v));
        double atol = RTOL * max, worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(expected[i] - actual[i]), tol = atol + RTOL * Math.abs(expected[i]);
            if (d / tol > worst) { worst = d / tol; at = i; }
        }
        assertTrue(worst <= 1, what + ": element " + at + " ORT " + (at < 0 ? 0 : actual[at]) + " conta " + (at < 0 ? 0 : expected[at])
                + " (max |conta| " + max + ", error " + worst + " x tolerance)");
        assertTrue(max > 0, what + ": all zero, the comparison would prove nothing");
        System.out.printf("%s: %d values, worst error %.3g of the tolerance (max |conta| %.3g)%n", what, expected.length, worst, max);
    }

    /** conta's outputs for an input, through fn on the network (eval mode, no gradient). */
    static Map<String, float[]> conta(Network net, Function<Tensor, Map<String, Tensor>> fn, Tensor x) {
        net.module().train(false);
        Map<String, float[]> m = new LinkedHashMap<>();
        try (Tape t = Tape.open(false)) {
            fn.apply(x).forEach((k, v) -> m.put(k, v.toArray()));
        }
        return m;
    }

    /**
     * Random batch-norm statistics and affine parameters (fresh ones are the identity, which would hide a wrong fold),
     * with variances in [0.5, 1.5].
     */
    static void randomiseBatchNorm(Network net, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        net.module().visitModules("", (n, m) -> {
            if (!(m instanceof BatchNorm2d bn)) return;
            int c = bn.weight.dim(0);
            bn.backend().upload(bn.weight, fill(c, () -> (float) (0.5 + r.nextDouble())));
            bn.backend().upload(bn.bias, fill(c, () -> (float) (0.2 * r.nextGaussian())));
            bn.backend().upload(bn.runningMean, fill(c, () -> (float) (0.2 * r.nextGaussian())));
            bn.backend().upload(bn.runningVar, fill(c, () -> (float) (0.5 + r.nextDouble())));
        });
    }

    private static float[] fill(int n, java.util.function.Supplier<Float> s) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = s.get();
        return v;
    }

    static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    static void assertShape(long[] expected, String output) {
        assertArrayEquals(expected, shapesOut.get(output), output + " shape");
    }
}
