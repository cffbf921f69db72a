// What a plan cache costs as image sizes and concurrent callers grow: each new input shape (and each caller running
// the same shape at the same time) gets its own compiled plan. Prints, per step, the time of the first call of a new
// shape (compile + run), of a second call, and the process's resident memory (VmRSS) afterwards.
// Usage (after mvn package):
//   GOMP_SPINCOUNT=1000 $JAVA_HOME/bin/java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
//     -cp "target/classes:target/lib/*" bench/PlanSharingBench.java ARCH PRECISION THREADS HxW [HxW ...]
// e.g. ... bench/PlanSharingBench.java resnet50 fp32 4 224x224 320x240 375x500 500x375
// THREADS callers run the first size at the same time at the end (THREADS plans of that shape).
import conta.infer.PlanCache;
import conta.infer.Precision;
import conta.models.Models;
import conta.models.Network;
import conta.tensor.cpu.CpuBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;

public class PlanSharingBench {
    static long rssMb() throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/self/status")))
            if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("\\D", "")) / 1024;
        return -1;
    }

    public static void main(String[] a) throws Exception {
        String arch = a[0];
        Precision p = Precision.parse(a[1]);
        int threads = Integer.parseInt(a[2]);
        CpuBackend b = new CpuBackend();
        try (Network net = Models.build(arch, new Models.Options(null, null, null, null, null, null, 0L), b)) {
            net.module().train(false);
            System.out.printf("model built: RSS %d MB%n", rssMb());
            List<int[]> shapes = new ArrayList<>();
            for (int k = 3; k < a.length; k++) {
                String[] hw = a[k].split("x");
                shapes.add(new int[]{1, 3, Integer.parseInt(hw[0]), Integer.parseInt(hw[1])});
            }
            try (PlanCache cache = PlanCache.forBackend(b, net, PlanCache.Output.FORWARD, p, shapes.size() + threads)) {
                for (int[] s : shapes) {
                    float[] in = new float[3 * s[2] * s[3]];
                    long t0 = System.nanoTime();
                    cache.run(in, s);
                    long t1 = System.nanoTime();
                    cache.run(in, s);
                    long t2 = System.nanoTime();
                    System.out.printf("%dx%d: first call %.0f ms, second %.1f ms, RSS %d MB%n", s[2], s[3], (t1 - t0) / 1e6, (t2 - t1) / 1e6, rssMb());
                }
                int[] s = shapes.getFirst();
                CyclicBarrier start = new CyclicBarrier(threads);
                List<Thread> ts = new ArrayList<>();
                long t0 = System.nanoTime();
                for (int t = 0; t < threads; t++) {
                    Thread th = new Thread(() -> {
                        try {
                            float[] in = new float[3 * s[2] * s[3]];
                            start.await();
                            for (int i = 0; i < 3; i++) cache.run(in, s);
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    });
                    th.start();
                    ts.add(th);
                }
                for (Thread th : ts) th.join();
                System.out.printf("%d callers x 3 calls of %dx%d: %.0f ms, RSS %d MB%n", threads, s[2], s[3], (System.nanoTime() - t0) / 1e6, rssMb());
            }
        }
    }
}
