package conta.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Image-level labels as CSV: {@code image_id,class names}. Names may sit in further columns or be separated by ';' or
 * '|' inside one (quoted) field; an empty name list means background only. A first line whose id cell is a column name
 * (image_id, id, image, filename, ...) and whose other cells name columns, not classes, is a header.
 */
public final class LabelsCsv {
    private LabelsCsv() { }

    /** id -> sorted class indices, in file order. Bad lines throw, or with skipBad go to {@code bad}. */
    public static Map<String, int[]> read(Path file, List<String> classes, boolean skipBad, List<BadItem> bad) {
        List<String> lines = TextLines.read(file, "labels file");
        Map<String, Integer> index = ClassList.index(classes);
        Map<String, int[]> out = new LinkedHashMap<>();
        for (int ln = 0; ln < lines.size(); ln++) {
            String line = lines.get(ln).strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            List<String> cols = split(line);
            String id = cols.get(0).strip();
            if (ln == 0 && isHeader(cols, index)) continue;
            try {
                TreeSet<Integer> ks = new TreeSet<>();
                for (int c = 1; c < cols.size(); c++)
                    for (String name : cols.get(c).split("[;|]")) {
                        if (name.isBlank()) continue;
                        Integer k = index.get(ClassList.norm(name));
                        if (k == null)
                            throw new DataError(id, file, file + " line " + (ln + 1) + ": unknown class '" + name.strip()
                                    + "' for image " + id + "; add it to the classes file or fix the spelling (known: "
                                    + String.join(", ", classes.subList(1, classes.size())) + ")");
                        ks.add(k);
                    }
                if (out.containsKey(id)) throw new DataError(id, file, file + " line " + (ln + 1) + ": image " + id + " is listed twice; merge the lines");
                out.put(id, ks.stream().mapToInt(Integer::intValue).toArray());
            } catch (DataError e) {
                if (!skipBad) throw e;
                bad.add(e.asBad());
            }
        }
        return out;
    }

    /** Id-column names no image is given: a header even with its other cells empty. */
    private static final java.util.Set<String> COLUMN_NAMES = java.util.Set.of("image_id", "imageid", "image_name", "img_id", "file_name", "filename");

    private static final java.util.Set<String> ID_HEADERS = java.util.Set.of("id", "image", "image_id", "imageid", "image_name",
            "img", "img_id", "file", "filename", "file_name", "name");

    /**
     * A header names the id column (image_id, id, filename, ...), no class, and its other columns (classes, labels) when
     * it has any, unless the id cell is a name no image is given (image_id, filename, ...): "image_001,cat" is a data
     * line, and so is "image," (an image named "image", background only); "image_id," is a header.
     */
    private static boolean isHeader(List<String> cols, Map<String, Integer> index) {
        String id = cols.get(0).strip().toLowerCase(java.util.Locale.ROOT).replace(' ', '_').replace('-', '_');
        if (!ID_HEADERS.contains(id)) return false;
        boolean named = cols.size() == 1 || COLUMN_NAMES.contains(id); // "image_id," is a header, "image," an image
        for (int c = 1; c < cols.size(); c++)
            for (String name : cols.get(c).split("[;|]")) {
                if (name.isBlank()) continue;
                if (index.containsKey(ClassList.norm(name))) return false;
                named = true;
            }
        return named;
    }

    public static void write(Path file, Map<String, int[]> labels, List<String> classes) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("image_id,classes");
        for (Map.Entry<String, int[]> e : labels.entrySet()) {
            StringBuilder b = new StringBuilder(e.getKey()).append(',');
            int[] ks = e.getValue();
            for (int i = 0; i < ks.length; i++) b.append(i > 0 ? ";" : "").append(classes.get(ks[i]));
            lines.add(b.toString());
        }
        Files.write(file, lines);
    }

    /** Splits one CSV line on commas, honouring double quotes. */
    static List<String> split(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean q = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '"') {
                if (q && i + 1 < line.length() && line.charAt(i + 1) == '"') { cur.append('"'); i++; } else q = !q;
            } else if (c == ',' && !q) {
                out.add(cur.toString());
                cur.setLength(0);
            } else cur.append(c);
        }
        out.add(cur.toString());
        return out;
    }
}
