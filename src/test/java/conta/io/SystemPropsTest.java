package conta.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The -Dconta.* list against the readers in the sources and the docs, and the one-line refusals of bad ones. */
class SystemPropsTest {
    static Properties props(String... kv) {
        Properties p = new Properties();
        for (int i = 0; i < kv.length; i += 2) p.setProperty(kv[i], kv[i + 1]);
        return p;
    }

    /**
     * The main sources read conta.* properties through SystemProps only (a JDK reader would take a misspelt value as its
     * default again), and the names read there or by the tests (which may read their own raw) are exactly the list.
     */
    @Test
    void theListIsExactlyWhatTheSourcesRead() throws IOException {
        Pattern viaList = Pattern.compile("SystemProps\\.(?:flag|count|text|choice)\\(\"(conta\\.[A-Za-z0-9.]+)\"");
        Pattern raw = Pattern.compile("(?:getProperty|getBoolean|getInteger|getLong|setProperty|clearProperty)\\(\"(conta\\.[A-Za-z0-9.]+)\"");
        Set<String> found = new TreeSet<>(), rawInMain = new TreeSet<>();
        for (String root : List.of("src/main/java", "src/test/java", "src/selftest/java"))
            try (Stream<Path> files = Files.walk(Path.of(root))) {
                for (Path f : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    if (f.endsWith("SystemProps.java") || f.endsWith("SystemPropsTest.java")) continue;
                    String src = Files.readString(f);
                    Matcher m = viaList.matcher(src);
                    while (m.find()) found.add(m.group(1));
                    m = raw.matcher(src);
                    while (m.find()) {
                        if (root.equals("src/main/java")) rawInMain.add(f.getFileName() + ": " + m.group(1));
                        else found.add(m.group(1));
                    }
                }
            }
        assertEquals(Set.of(), rawInMain, "main sources read these past SystemProps");
        assertTrue(found.size() > 30, "the scan found " + found); // the scan itself works
        found.removeAll(Set.of("conta.plan.winnograd", "conta.zz")); // CliHelpTest's misspelt ones
        assertEquals(found, new TreeSet<>(SystemProps.names()));
    }

    /** The properties README, docs and the bench scripts tell users to pass are listed (history and result logs aside). */
    @Test
    void everyPropertyTheDocsNameIsListed() throws IOException {
        // -Dconta.x, and conta.x in backticks (docs/device-seam.md's table): names that are not config keys
        Pattern named = Pattern.compile("-D(conta\\.[A-Za-z0-9.]*[A-Za-z0-9])|`(conta\\.[a-z]+\\.[A-Za-z0-9.]*[A-Za-z0-9])[=`]");
        Set<String> missing = new TreeSet<>();
        List<Path> docs = new java.util.ArrayList<>(List.of(Path.of("README.md")));
        for (String dir : List.of("docs", "bench"))
            try (Stream<Path> files = Files.list(Path.of(dir))) {
                files.filter(f -> f.toString().matches(".*\\.(md|sh|py)")).filter(f -> !f.getFileName().toString().matches("history\\.md|RESULTS.*"))
                        .forEach(docs::add);
            }
        for (Path f : docs) {
            Matcher m = named.matcher(Files.readString(f));
            while (m.find()) {
                String n = m.group(1) != null ? m.group(1) : m.group(2);
                // in backticks also recipe keys (conta.init_std), packages (conta.wsss.irn) and classes (conta.io.Json)
                if (m.group(1) == null && (conta.config.ConfigKeys.get(n) != null || Files.isDirectory(Path.of("src/main/java", n.replace('.', '/')))
                        || n.matches(".*\\.[A-Z].*"))) continue;
                if (!SystemProps.names().contains(n)) missing.add(f + ": " + n);
            }
        }
        assertEquals(Set.of(), missing);
    }

    @Test
    void goodValuesAndOtherPropertiesPass() {
        assertEquals(List.of(), SystemProps.problems(props("conta.plan.winograd", "false", "conta.conv", "dnnl-bf16", "conta.host.cache", "4096",
                "conta.plan.profile.calls", "/tmp/x.csv", "java.home", "anything", "contax.foo", "1")));
    }

    @Test
    void aMisspeltValueIsRefusedNamingWhatItTakes() {
        assertEquals(List.of("-Dconta.plan.winograd=flase: expected true or false"), SystemProps.problems(props("conta.plan.winograd", "flase")));
        assertEquals(List.of("-Dconta.cpu.blocked=yes: expected true or false"), SystemProps.problems(props("conta.cpu.blocked", "yes")));
        assertEquals(List.of("-Dconta.host.cache=4g: expected a whole number from 0 to 1073741824"), SystemProps.problems(props("conta.host.cache", "4g")));
        assertEquals(List.of("-Dconta.conv=onednn: expected dnnl, dnnl-bf16 or blas"), SystemProps.problems(props("conta.conv", "onednn")));
        assertEquals(List.of("-Dconta.cuda.convApi=graphs: expected legacy or graph"), SystemProps.problems(props("conta.cuda.convApi", "graphs")));
        // counts out of their range: 0 plans would close the plan just made; past int, Integer.getInteger took its default
        assertEquals(List.of("-Dconta.dnnl.maxPlans=0: expected a whole number of at least 1"), SystemProps.problems(props("conta.dnnl.maxPlans", "0")));
        assertEquals(List.of("-Dconta.dnnl.maxPlans=9999999999: expected a whole number of at least 1"),
                SystemProps.problems(props("conta.dnnl.maxPlans", "9999999999")));
        assertEquals(List.of("-Dconta.conv.dwChunk=-5: expected a whole number of at least 1"), SystemProps.problems(props("conta.conv.dwChunk", "-5")));
        // case does not matter for flags and choices, as Boolean.parseBoolean and the conv switch read them before
        assertEquals(List.of(), SystemProps.problems(props("conta.cuda.sync", "TRUE", "conta.conv", "BLAS", "conta.cpu.blocked", "False")));
    }

    /** The readers: a value as the row reads it, the default when unset, a refusal naming the value when bad. */
    @Test
    void theReadersParseAsTheListSays() {
        String[][] set = {{"conta.cuda.sync", " TRUE"}, {"conta.cuda.workspaceMiB", "512"}, {"conta.cuda.convSearch", "Find"}};
        for (String[] kv : set) System.setProperty(kv[0], kv[1]); // properties only a CUDA backend's constructor reads
        try {
            assertTrue(SystemProps.flag("conta.cuda.sync", false));
            assertEquals(512, SystemProps.count("conta.cuda.workspaceMiB", 256));
            assertEquals("find", SystemProps.choice("conta.cuda.convSearch", "auto"));
            assertEquals(8, SystemProps.count("conta.cuda.graphCandidates", 8)); // unset: the default
            System.setProperty("conta.cuda.workspaceMiB", "lots");
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> SystemProps.count("conta.cuda.workspaceMiB", 256));
            assertEquals("-Dconta.cuda.workspaceMiB=lots: expected a whole number from 0 to 1073741824", e.getMessage());
            org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> SystemProps.flag("conta.cuda.workspaceMiB", false)); // wrong kind
            org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> SystemProps.flag("conta.unlisted", false));
        } finally {
            for (String[] kv : set) System.clearProperty(kv[0]);
        }
    }

    @Test
    void aMisspeltNameIsRefusedWithTheNearestListedOne() {
        assertEquals(List.of("-Dconta.plan.winnograd: no such conta property (did you mean -Dconta.plan.winograd?); conta --help-properties lists them"),
                SystemProps.problems(props("conta.plan.winnograd", "false")));
        assertEquals(List.of("-Dconta.cpu.halfWeights: no such conta property; conta --help-properties lists them"),
                SystemProps.problems(props("conta.cpu.halfWeights", "true")));
        assertEquals(List.of("-Dconta.cuda.TF32: no such conta property (did you mean -Dconta.cuda.tf32?); conta --help-properties lists them"),
                SystemProps.problems(props("conta.cuda.TF32", "false")));
        // several: all of them, in name order
        assertEquals(2, SystemProps.problems(props("conta.zz", "1", "conta.conv", "x")).size());
    }

    @Test
    void helpListsEveryPropertyWithItsValues() {
        String h = SystemProps.help();
        for (String n : SystemProps.names()) assertTrue(h.contains("-D" + n + "="), n);
        assertTrue(h.contains("-Dconta.cuda.graphSearch=heuristic|top|measure\n"), h);
        assertTrue(h.contains("-Dconta.dnnl.maxPlans=N>=1\n"), h);
        assertTrue(h.contains("-Dconta.host.cache=N in 0..1073741824\n"), h);
    }
}
