package conta.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import conta.cli.LatencyStats;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * ONNX Runtime (Java, CPU) batch-1 latency for bench/latency.sh, not a test: the model exported by
 * bench/latency_torch.py from the weights conta loads, the same random image (SplittableRandom(1) Gaussians) as
 * conta's LatencyBench, the same percentile line.
 *
 * <p>Usage: OrtLatency MODEL.onnx ARCH SIZE [iters 50] [warmup 10] [threads 2] [spin 1|0] [gap ms 0]; ORT_TRACE=F writes
 * every call's start and ms as conta bench latency --trace does; the gap sleeps after each call, untimed, as
 * {@code conta bench latency --gap-ms}.
 */
public final class OrtLatency {
    public static void main(String[] a) throws Exception {
        String model = a[0], arch = a[1];
        int size = Integer.parseInt(a[2]);
        int iters = a.length > 3 ? Integer.parseInt(a[3]) : 50, warmup = a.length > 4 ? Integer.parseInt(a[4]) : 10;
        int threads = a.length > 5 ? Integer.parseInt(a[5]) : 2;
        String spin = a.length > 6 ? a[6] : "1";
        int gapMs = a.length > 7 ? Integer.parseInt(a[7]) : 0;
        float[] img = new float[3 * size * size];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < img.length; i++) img[i] = (float) r.nextGaussian();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(threads);
            o.setInterOpNumThreads(1);
            o.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            o.addConfigEntry("session.intra_op.allow_spinning", spin);
            String profile = System.getenv("ORT_PROFILE");             // per-node times for bench/ort_profile.py
            if (profile != null && !profile.isEmpty()) o.enableProfiling(profile);
            try (OrtSession s = env.createSession(model, o);
                 OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(img), new long[]{1, 3, size, size})) {
                String name = s.getInputNames().iterator().next();
                double[] ms = new double[iters], start = new double[iters];
                for (int it = 0; it < warmup + iters; it++) {
                    long t0 = System.nanoTime();
                    try (OrtSession.Result res = s.run(Map.of(name, x))) {
                        ((OnnxTensor) res.get(0)).getFloatBuffer();
                    }
                    if (it >= warmup) {
                        start[it - warmup] = t0 / 1e6;
                        ms[it - warmup] = (System.nanoTime() - t0) / 1e6;
                    }
                    if (gapMs > 0) Thread.sleep(gapMs);
                }
                String trace = System.getenv("ORT_TRACE");
                if (trace != null && !trace.isEmpty()) LatencyStats.writeTrace(trace, start, ms);
                System.out.println(LatencyStats.of(ms).line("ort" + (spin.equals("1") ? "" : "-nospin"), arch, size));
            }
        }
    }
}
