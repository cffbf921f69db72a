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

    /** Every name some source reads (getProperty, getBoolean, getInteger, getLong) or sets is listed, and nothing else. */
    @Test
    void theListIsExactlyWhatTheSourcesRead() throws IOException {
        Pattern read = Pattern.compile("(?:getProperty|getBoolean|getInteger|getLong|setProperty)\\(\"(conta\\.[A-Za-z0-9.]+)\"");
        Set<String> found = new TreeSet<>();
        for (String root : List.of("src/main/java", "src/test/java", "src/selftest/java"))
            try (Stream<Path> files = Files.walk(Path.of(root))) {
                for (Path f : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    Matcher m = read.matcher(Files.readString(f));
                    while (m.find()) found.add(m.group(1));
                }
            }
        assertTrue(found.size() > 30, "the scan found " + found); // the scan itself works
        assertEquals(found, new TreeSet<>(SystemProps.names()));
    }

    /** The properties README, docs and the bench scripts tell users to pass are listed (history and result logs aside). */
    @Test
    void everyPropertyTheDocsNameIsListed() throws IOException {
        Pattern named = Pattern.compile("-D(conta\\.[A-Za-z0-9.]*[A-Za-z0-9])");
        Set<String> missing = new TreeSet<>();
        List<Path> docs = new java.util.ArrayList<>(List.of(Path.of("README.md")));
        for (String dir : List.of("docs", "bench"))
            try (Stream<Path> files = Files.list(Path.of(dir))) {
                files.filter(f -> f.toString().matches(".*\\.(md|sh|py)")).filter(f -> !f.getFileName().toString().matches("history\\.md|RESULTS.*"))
                        .forEach(docs::add);
            }
        for (Path f : docs) {
            Matcher m = named.matcher(Files.readString(f));
            while (m.find()) if (!SystemProps.names().contains(m.group(1))) missing.add(f + ": " + m.group(1));
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
        assertEquals(List.of("-Dconta.cpu.blocked=TRUE: expected true or false"), SystemProps.problems(props("conta.cpu.blocked", "TRUE")));
        assertEquals(List.of("-Dconta.host.cache=4g: expected a whole number >= 0"), SystemProps.problems(props("conta.host.cache", "4g")));
        assertEquals(List.of("-Dconta.conv=onednn: expected dnnl, dnnl-bf16 or blas"), SystemProps.problems(props("conta.conv", "onednn")));
        assertEquals(List.of("-Dconta.cuda.convApi=graphs: expected legacy or graph"), SystemProps.problems(props("conta.cuda.convApi", "graphs")));
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
    }
}
