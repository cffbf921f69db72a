package conta.pipeline;

import conta.data.BadItem;
import conta.data.DataError;
import conta.data.Dataset;
import conta.data.Item;
import conta.data.Sample;
import conta.image.Mask;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The items a --skip-bad run left out, each once (keyed by id, with the reason found first; by file for a problem of no
 * single item): the
 * ones refused up front and the ones whose files became unreadable during the run. {@link #watch} wraps the dataset
 * so every failed read is recorded (the loader, the CAM, IR-label, walk and prediction loops all read through it);
 * the list is printed at the end of the run and stored in report.json and report.html.
 */
public final class BadItems {
    private final Map<String, BadItem> items = new LinkedHashMap<>();

    /** Records an item; a second report of the same id (the opening's list is in every split's check) is ignored. */
    public synchronized void add(BadItem b) {
        items.putIfAbsent(b.id() != null ? "id " + b.id() : "file " + b.file(), b);
    }

    public synchronized List<BadItem> list() { return List.copyOf(items.values()); }

    /** Ids with at least one bad file. */
    public synchronized Set<String> ids() {
        Set<String> s = new LinkedHashSet<>();
        for (BadItem b : items.values()) if (b.id() != null) s.add(b.id());
        return s;
    }

    /** ids without the bad ones, in order. */
    public List<String> live(List<String> ids) {
        Set<String> bad = ids();
        if (bad.isEmpty()) return ids;
        List<String> l = new ArrayList<>(ids);
        l.removeIf(bad::contains);
        return List.copyOf(l);
    }

    /** The end-of-run list (nothing when no item was left out). */
    public void print(PrintStream out) {
        List<BadItem> l = list();
        if (l.isEmpty()) return;
        out.println("skipped " + l.size() + " bad item(s) (--skip-bad):");
        for (BadItem b : l) out.println("  " + b.id() + " (" + b.file() + "): " + b.reason());
    }

    /** For report.json: id, file and reason of each. */
    public List<Object> toJson() {
        List<Object> l = new ArrayList<>();
        for (BadItem b : list()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", b.id());
            m.put("file", String.valueOf(b.file()));
            m.put("reason", b.reason());
            l.add(m);
        }
        return l;
    }

    /** ds with every failed read recorded here before the error goes on (to the skipping loop, or up to stop the run). */
    Dataset watch(Dataset ds) {
        return new Dataset() {
            private <T> T rec(java.util.function.Supplier<T> f) {
                try {
                    return f.get();
                } catch (DataError e) {
                    add(e.asBad());
                    throw e;
                }
            }

            @Override public Path root() { return ds.root(); }
            @Override public List<String> splits() { return ds.splits(); }
            @Override public List<String> ids(String split) { return ds.ids(split); }
            @Override public int numClasses() { return ds.numClasses(); }
            @Override public List<String> classNames() { return ds.classNames(); }
            @Override public int[] labels(String id) { return rec(() -> ds.labels(id)); }
            @Override public boolean hasMask(String id) { return ds.hasMask(id); }
            @Override public Mask mask(String id) { return rec(() -> ds.mask(id)); }
            @Override public Item read(String id) { return rec(() -> ds.read(id)); }
            @Override public List<BadItem> skipped() { return ds.skipped(); }
            @Override public Sample load(String id, conta.data.Preprocess input) { return rec(() -> ds.load(id, input)); }
            @Override public List<Path> files(String id) { return ds.files(id); }
        };
    }
}
