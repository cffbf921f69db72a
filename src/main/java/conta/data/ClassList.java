package conta.data;

import conta.image.Palette;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Class-name lists: the VOC default and classes files (one foreground name per line; a first "background" line is optional). */
public final class ClassList {
    private ClassList() { }

    public static List<String> voc() { return Palette.VOC_CLASSES; }

    /** Reads a classes file; returns background + names. Blank lines and '#' comments are skipped. */
    public static List<String> read(Path file) {
        List<String> lines = TextLines.read(file, "classes file");
        List<String> out = new ArrayList<>();
        out.add("background");
        for (String l : lines) {
            String s = l.strip();
            if (s.isEmpty() || s.startsWith("#")) continue;
            int sp = s.indexOf(' ');
            if (sp > 0 && s.substring(0, sp).chars().allMatch(Character::isDigit)) s = s.substring(sp + 1).strip(); // "3 cat"
            if (out.size() == 1 && (s.equalsIgnoreCase("background") || s.equals("_background_") || s.equals("__background__"))) continue;
            if (out.contains(s)) throw new DataError(null, file, "classes file " + file + " lists '" + s + "' twice; remove the duplicate");
            if (s.contains(";") || s.contains("|")) // labels.csv splits a cell's names there: no label could name this class
                throw new DataError(null, file, "classes file " + file + " names '" + s + "', but ';' and '|' separate class names in labels.csv,"
                        + " so no image could be labelled with it; rename it without them");
            for (String o : out.subList(1, out.size())) // labels.csv looks names up by norm: one of the two would never be labelled
                if (norm(o).equals(norm(s)))
                    throw new DataError(null, file, "classes file " + file + " lists '" + o + "' and '" + s + "', which image labels cannot tell apart"
                            + " (labels.csv and Annotations/*.xml match names ignoring case, with _ - and space alike); remove one or rename it");
            out.add(s);
        }
        if (out.size() < 2) throw new DataError(null, file, "classes file " + file + " names no classes; write one class name per line");
        if (out.size() > 255) throw new DataError(null, file, "classes file " + file + " has " + (out.size() - 1) + " classes; masks hold at most 254");
        return List.copyOf(out);
    }

    public static void write(Path file, List<String> withBackground) throws IOException {
        Files.write(file, withBackground.subList(1, withBackground.size()));
    }

    /** name -> index (1..C), case-insensitive, spaces and underscores equivalent. */
    public static Map<String, Integer> index(List<String> withBackground) {
        Map<String, Integer> m = new HashMap<>();
        for (int k = 1; k < withBackground.size(); k++) m.put(norm(withBackground.get(k)), k);
        return m;
    }

    static String norm(String s) { return s.strip().toLowerCase().replace('_', ' ').replace('-', ' '); }
}
