package conta;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The package layering of docs/design-layers.md, checked on the main classes (ArchUnit reads the class files, so
 * fully-qualified uses count as much as imports): no package cycle, and no dependency on a package of the same or a
 * higher layer. The last two tests run both rules on test classes that do break them, so the rules can fail.
 */
class LayersTest {
    /**
     * Layers from the bottom; a package may depend only on packages of lower layers (siblings in one layer may not
     * depend on each other). The io/image/data/eval side stack sits under the compute stack that uses it.
     */
    static final String[][] LAYERS = {
        {"conta.error"},
        {"conta.io"},
        {"conta.image"},
        {"conta.data"},
        {"conta.synth"},
        {"conta.tensor"},
        {"conta.tensor.cpu", "conta.tensor.cuda"},
        {"conta.eval"}, // scores through the backend's WSSS ops (confusion)
        {"conta.autograd"},
        {"conta.nn"},
        {"conta.models"},
        {"conta.infer", "conta.onnx"}, // inference plans and ONNX export of built networks
        {"conta.optim"},
        {"conta.train"},
        {"conta.config"},
        {"conta.causal", "conta.wsss.crf", "conta.wsss.irn"},
        {"conta.wsss"},
        {"conta.pipeline"},
        {"conta.api"}, // the embedding surface (Java API, C ABI bridge) over bundles
        {"conta.cli"},
    };

    static final JavaClasses MAIN = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS).importPackages("conta");

    static int layer(String pkg) {
        for (int i = 0; i < LAYERS.length; i++) for (String p : LAYERS[i]) if (p.equals(pkg)) return i;
        return -1;
    }

    /** "origin -> target (Class.member)" for every dependency of a conta class on a package not below its own. */
    static List<String> upward(JavaClasses classes) {
        List<String> bad = new ArrayList<>();
        for (JavaClass c : classes) {
            String from = c.getPackageName();
            int lf = layer(from);
            if (lf < 0) {
                bad.add(from + " is in no layer (add it to LayersTest.LAYERS and docs/design-layers.md)");
                continue;
            }
            for (Dependency d : c.getDirectDependenciesFromSelf()) {
                String to = d.getTargetClass().getPackageName();
                if (!to.startsWith("conta.") || to.equals(from)) continue;
                int lt = layer(to);
                if (lt < 0 || lt >= lf) bad.add(from + " -> " + to + ": " + d.getDescription());
            }
        }
        return bad;
    }

    @Test
    void everyMainPackageIsInALayerAndNoDependencyPointsUpOrSideways() {
        List<String> bad = upward(MAIN);
        assertTrue(bad.isEmpty(), bad.size() + " dependencies against the layer order:\n" + String.join("\n", bad.subList(0, Math.min(bad.size(), 40))));
    }

    @Test
    void noPackageCycles() {
        slices().matching("conta.(**)").should().beFreeOfCycles().check(MAIN);
    }

    @Test
    void theTensorAbstractionNamesNoImplementationAndTensorNoAutograd() {
        // the two edges that used to tie everything into one cycle, spelled out
        TreeSet<String> tensorDeps = new TreeSet<>();
        for (JavaClass c : MAIN) {
            if (!c.getPackageName().equals("conta.tensor")) continue;
            for (Dependency d : c.getDirectDependenciesFromSelf()) tensorDeps.add(d.getTargetClass().getPackageName());
        }
        assertFalse(tensorDeps.contains("conta.tensor.cpu") || tensorDeps.contains("conta.tensor.cuda") || tensorDeps.contains("conta.autograd"), tensorDeps.toString());
    }

    @Test
    void theSelfTestHarnessIsNotInTheMainClasses() {
        for (String c : new String[]{"SelfTest", "BackendCases", "DomainCases", "TorchCompare"})
            assertFalse(MAIN.contain("conta.tensor.cuda." + c), c + " is in the main classes");
    }

    @Test
    void theRulesFailOnCodeThatBreaksThem() {
        // test classes are exempt from the layering, and some break it on purpose: conta.tensor.BackendsTest uses
        // CpuBackend (tensor -> tensor.cpu) while conta.tensor.cpu.DnnlConvTest uses conta.tensor's ConvGeometry
        JavaClasses withTests = new ClassFileImporter().importPackages("conta.tensor");
        List<String> bad = upward(withTests);
        assertTrue(bad.stream().anyMatch(s -> s.startsWith("conta.tensor -> conta.tensor.cpu")), String.join("\n", bad));
        AssertionError e = null;
        try {
            slices().matching("conta.(**)").should().beFreeOfCycles().check(withTests);
        } catch (AssertionError x) {
            e = x;
        }
        assertTrue(e != null && e.getMessage().contains("Cycle"), "the cycle rule passed on a cycle");
        assertEquals(-1, layer("conta.nowhere"));
    }
}
