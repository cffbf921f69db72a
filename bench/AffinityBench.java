// IRNet's affinity loss at its full size, composed ops (Affinity.fromBoundary + Affinity.loss) against the fused
// Affinity.boundaryLoss that BoundaryNet trains with: wall time of the forward pass and of the backward pass, three rounds.
// Usage (after mvn package): $JAVA_HOME/bin/java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xmx8g \
//            -cp "target/classes:target/lib/*" bench/AffinityBench.java 32 128     (batch, stride-4 grid side: 512 px crops -> 128)
import conta.autograd.Tape;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import conta.wsss.irn.Affinity;
import conta.wsss.irn.PathIndex;
import java.util.Random;

public class AffinityBench {
    public static void main(String[] a) {
        int n = Integer.parseInt(a[0]), h = Integer.parseInt(a[1]), w = h;
        PathIndex idx = new PathIndex(10);
        System.out.println("directions " + idx.directions() + ", sources " + idx.sources(h, w) + ", pairs " + (long) n * idx.directions() * idx.sources(h, w));
        Random r = new Random(1);
        float[] e = new float[n * h * w];
        for (int i = 0; i < e.length; i++) e[i] = r.nextFloat();
        byte[] lab = new byte[n * h * w];
        for (int i = 0; i < lab.length; i++) lab[i] = (byte) (r.nextInt(10) == 0 ? 255 : r.nextInt(3));
        try (CpuBackend b = new CpuBackend()) {
            for (int it = 0; it < 3; it++) {
                try (Tape t = Tape.open(true)) {
                    Tensor bd = Tape.track(Tensor.of(b, e, n, 1, h, w));
                    bd.requiresGrad = true;
                    long t0 = System.nanoTime();
                    Tensor aff = Affinity.fromBoundary(bd, idx);
                    long t1 = System.nanoTime();
                    Affinity.Loss l = Affinity.loss(aff, lab, h, w, idx);
                    long t2 = System.nanoTime();
                    t.backward(l.total());
                    long t3 = System.nanoTime();
                    System.out.printf("composed: fromBoundary %.0f ms, loss %.0f ms, backward %.0f ms, total %.0f ms%n", (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6, (t3 - t0) / 1e6);
                }
                try (Tape t = Tape.open(true)) {
                    Tensor bd = Tape.track(Tensor.of(b, e, n, 1, h, w));
                    bd.requiresGrad = true;
                    long t0 = System.nanoTime();
                    Affinity.Loss l = Affinity.boundaryLoss(bd, lab, idx);
                    long t2 = System.nanoTime();
                    t.backward(l.total());
                    long t3 = System.nanoTime();
                    System.out.printf("fused: loss %.0f ms, backward %.0f ms, total %.0f ms%n", (t2 - t0) / 1e6, (t3 - t2) / 1e6, (t3 - t0) / 1e6);
                }
            }
        }
    }
}
