package conta.bench;

import conta.api.ContaModel;
import conta.image.ImageCodec;
import conta.image.RgbImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Per-call overhead of the C ABI over the Java API: the median of 100 conta_segment_rgb8 calls (abi_check.c, its own
 * process with an embedded JVM) minus the median of 100 ContaModel.segment calls on the same bundle and image.
 * usage (after mvn package and test-compile):
 * java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp target/test-classes:target/classes:target/lib/'*' \
 *   conta.bench.CAbiOverheadBench BUNDLE IMAGE...
 */
public final class CAbiOverheadBench {
    private CAbiOverheadBench() { }

    public static void main(String[] a) throws Exception {
        Path bundle = Path.of(a[0]);
        Path exe = Files.createTempDirectory("abi").resolve("abi_check");
        Process cc = new ProcessBuilder("gcc", "-O2", "-o", exe.toString(), "native/tests/abi_check.c", "-Inative/include", "-Ltarget/native",
                "-lconta", "-Wl,-rpath," + Path.of("target/native").toAbsolutePath(), "-lpthread").inheritIO().start();
        if (cc.waitFor() != 0) throw new IllegalStateException("gcc failed");
        Path corrupt = exe.resolveSibling("corrupt.jpg");
        Files.write(corrupt, new byte[]{1, 2, 3});
        for (int i = 1; i < a.length; i++) {
            Path img = Path.of(a[i]);
            RgbImage im = ImageCodec.read(img);
            double java;
            try (ContaModel m = ContaModel.open(bundle, "cpu")) {
                byte[] out = new byte[im.w() * im.h()];
                for (int k = 0; k < 9; k++) m.segment(im.rgb(), im.w(), im.h(), out); // as many warm-up calls as abi_check makes
                double[] t = new double[100];
                for (int k = 0; k < t.length; k++) {
                    long t0 = System.nanoTime();
                    m.segment(im.rgb(), im.w(), im.h(), out);
                    t[k] = (System.nanoTime() - t0) / 1e6;
                }
                Arrays.sort(t);
                java = t[50];
            }
            ProcessBuilder pb = new ProcessBuilder(List.of(exe.toString(), bundle.toString(), img.toString(), exe.resolveSibling("l.raw").toString(),
                    corrupt.toString(), "100")).redirectError(ProcessBuilder.Redirect.DISCARD);
            pb.environment().put("CONTA_CLASSPATH", System.getProperty("java.class.path"));
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes());
            p.waitFor();
            double c = Double.NaN, rt = Double.NaN;
            for (String line : out.split("\n")) {
                if (line.startsWith("median_ms ")) c = Double.parseDouble(line.substring(10));
                if (line.startsWith("roundtrip_median_ms ")) rt = Double.parseDouble(line.substring(20));
            }
            System.out.printf("%s: C ABI round trip without model work (conta_num_classes) median %.4f ms%n", img.getFileName(), rt);
            System.out.printf("%s %dx%d: Java API median %.3f ms, C ABI median %.3f ms, overhead %.3f ms (%.1f%%)%n", img.getFileName(), im.w(), im.h(),
                    java, c, c - java, 100 * (c - java) / java);
        }
    }
}
