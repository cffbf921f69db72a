package conta.api;

import conta.pipeline.Methods;
import conta.pipeline.PipelineResumeTest;
import conta.synth.SynthGenerator;
import conta.tensor.cpu.CpuBackend;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One tiny finished pipeline run (PipelineResumeTest's recipe on a 24/8-image synthetic set), made once per test JVM
 * and shared by the bundle, predict, API and C ABI tests; deleted when the JVM exits.
 */
public final class TinyRun {
    private TinyRun() { }

    private static Path data, out;

    public static synchronized Path out() throws Exception {
        if (out == null) {
            Path tmp = Files.createTempDirectory("conta-tinyrun");
            data = tmp.resolve("synth");
            SynthGenerator.generate(data, new SynthGenerator.Config(5, 24, 8, 64, 0.8));
            try (CpuBackend b = new CpuBackend()) {
                Methods.run(PipelineResumeTest.tiny(), data, tmp.resolve("run"), b);
            }
            out = tmp.resolve("run");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(tmp)));
        }
        return out;
    }

    public static synchronized Path data() throws Exception {
        out();
        return data;
    }

    /** The run's seg model, its pred/ folder and the val images it predicted (data/JPEGImages/ID.jpg for each pred/ID.png). */
    public static Path segModel() throws Exception { return out().resolve("round0/seg/model.safetensors"); }

    public static Path pred() throws Exception { return out().resolve("round0/pred"); }

    public static Path image(String id) throws Exception { return data().resolve("JPEGImages").resolve(id + ".jpg"); }

    static void deleteTree(Path p) {
        try (var s = Files.walk(p)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (Exception e) {
            // best effort at JVM exit
        }
    }
}
