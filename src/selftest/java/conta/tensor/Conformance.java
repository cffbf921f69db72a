package conta.tensor;

import static org.junit.platform.engine.discovery.ClassNameFilter.excludeClassNamePatterns;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The backend conformance suite without Maven (bench/gpu-selftest.sh on a machine with only a Java runtime): every op
 * test of conta.tensor (RefOps and GradCheck cases, fused ops), FusedAutogradTest, ModelParityTest and
 * HostTransferTest against the backend of {@code --device} (cpu, cuda:0). One line per test, a per-test timeout,
 * and the summary printed in a finally block so that it survives a device fault. Run from the repository root
 * (ModelParityTest reads test-data/fixtures). Exit: 0 all passed, 1 a failure, 2 nothing ran (e.g. the device is absent: every class skips).
 * <pre>java ... -cp 'lib/*' conta.tensor.Conformance --device cuda:0 [--timeout 120]</pre>
 */
public final class Conformance {
    private Conformance() { }

    public static void main(String[] args) {
        String device = "cpu";
        int timeout = 120;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--device" -> device = args[i + 1];
                case "--timeout" -> timeout = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("usage: Conformance [--device cpu|cuda:N] [--timeout SECONDS]");
            }
        }
        System.setProperty("conta.test.backend", device);
        LauncherDiscoveryRequest req = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectPackage("conta.tensor"), selectClass("conta.autograd.FusedAutogradTest"), selectClass("conta.cli.ModelParityTest"),
                        selectClass("conta.train.HostTransferTest"))
                // CudaBackendTest starts SelfTest in a child JVM (the script runs SelfTest itself); tensor.cpu holds
                // tests of the CPU implementation (oneDNN, its pool), not of the Backend contract
                .filters(excludeClassNamePatterns("conta\\.tensor\\.cuda\\.CudaBackendTest", "conta\\.tensor\\.cpu\\..*", ".*Bench"))
                .configurationParameter("junit.jupiter.execution.timeout.default", timeout + " s")
                .configurationParameter("junit.jupiter.execution.timeout.mode", "enabled")
                .build();
        AtomicInteger passed = new AtomicInteger(), skipped = new AtomicInteger(), opTests = new AtomicInteger();
        List<String> failed = new ArrayList<>();
        TestExecutionListener lines = new TestExecutionListener() {
            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                skipped.incrementAndGet();
                System.out.printf("skip %-70s %s%n", id.getDisplayName(), reason);
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult r) {
                boolean test = id.isTest();
                if (test && name(id).startsWith("tensor.")) opTests.incrementAndGet();
                switch (r.getStatus()) {
                    case SUCCESSFUL -> { if (test) { passed.incrementAndGet(); System.out.printf("ok   %s%n", name(id)); } }
                    case ABORTED -> {
                        if (test || id.isContainer()) skipped.incrementAndGet();
                        System.out.printf("skip %-70s %s%n", name(id), r.getThrowable().map(Throwable::getMessage).orElse(""));
                    }
                    case FAILED -> {
                        String why = r.getThrowable().map(Throwable::toString).orElse("?").lines().findFirst().orElse("?");
                        synchronized (failed) { failed.add(name(id) + ": " + why); }
                        System.out.printf("FAIL %s: %s%n", name(id), why);
                    }
                }
            }
        };
        try {
            LauncherFactory.create().execute(req, lines);
            // a runtime that cannot scan the jar (no jdk.zipfs) finds only the classes named above: that is no conformance run
            if (opTests.get() == 0) failed.add("no test of package conta.tensor was found (class path scan failed?)");
        } finally {
            System.out.printf("conformance (%s): %d passed, %d failed, %d skipped%n", device, passed.get(), failed.size(), skipped.get());
            failed.forEach(f -> System.out.println("FAILED " + f));
            System.out.flush();
        }
        System.exit(!failed.isEmpty() ? 1 : passed.get() == 0 ? 2 : 0);
    }

    private static String name(TestIdentifier id) {
        String uid = id.getUniqueId();
        int c = uid.indexOf("[class:");
        String cls = c < 0 ? "" : uid.substring(c + 7, uid.indexOf(']', c)).replaceFirst("^conta\\.", "");
        return cls + " " + id.getDisplayName();
    }
}
