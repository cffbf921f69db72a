package conta.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The text files a user writes (labels.csv, classes.txt, id lists): UTF-8 with or without a byte-order mark. */
public final class TextLines {
    private TextLines() { }

    /** One id of a list file and its 1-based line number. */
    private record Entry(String id, int line) { }

    private static final Pattern SECOND_PATH = Pattern.compile("\\s+(?=\\S*/)");

    /** The file's lines; a leading BOM (editors on Windows write one) is dropped, bytes that are not UTF-8 are refused. */
    public static List<String> read(Path file, String what) {
        byte[] b;
        try {
            b = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new DataError(null, file, "cannot read " + what + " " + file + ": " + e.getMessage(), e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new DataError(null, file, what + " " + file + " is not UTF-8 text (line " + badLine(b) + "); save it as UTF-8");
        }
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        return text.lines().toList();
    }

    /** 1-based line of the first byte sequence that is not UTF-8. */
    private static int badLine(byte[] b) {
        var dec = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        int line = 1, start = 0;
        for (int i = 0; i <= b.length; i++) {
            if (i < b.length && b[i] != '\n') continue;
            try {
                dec.reset().decode(ByteBuffer.wrap(b, start, i - start));
            } catch (CharacterCodingException e) {
                return line;
            }
            line++;
            start = i + 1;
        }
        return line;
    }

    /**
     * The ids of a list file: the whole stripped line (ids may hold spaces), or the file stem of the first path of an
     * "image_path mask_path" line (SBD's train_aug.txt). Blank lines and '#' comments are skipped.
     */
    private static List<Entry> listEntries(Path file) {
        List<String> lines = read(file, "list");
        List<Entry> out = new ArrayList<>();
        for (int ln = 0; ln < lines.size(); ln++) {
            String s = lines.get(ln).strip();
            if (s.isEmpty() || s.startsWith("#")) continue;
            out.add(new Entry(idOf(s), ln + 1));
        }
        return out;
    }

    static String idOf(String s) {
        int slash = s.indexOf('/');
        if (slash < 0) return s;
        Matcher m = SECOND_PATH.matcher(s);
        String first = m.find(slash) ? s.substring(0, m.start()) : s;
        first = first.substring(first.lastIndexOf('/') + 1);
        int dot = first.lastIndexOf('.');
        return dot > 0 ? first.substring(0, dot) : first;
    }

    static String dupMessage(Path file, String id, int firstLine, int line) {
        return "list " + file + " names image " + id + " twice (lines " + firstLine + " and " + line + "); remove one of the lines";
    }

    /**
     * The ids of a list file (whole lines, or the stems of SBD's path pairs: {@link #listEntries}), each once, in file
     * order; a later line repeating an id goes to onRepeat with the id and
     * its refusal message (which may throw, or record it and go on).
     */
    public static List<String> ids(Path file, java.util.function.BiConsumer<String, String> onRepeat) {
        List<String> ids = new ArrayList<>();
        Map<String, Integer> first = new HashMap<>();
        for (Entry e : listEntries(file)) {
            Integer prev = first.putIfAbsent(e.id(), e.line());
            if (prev == null) ids.add(e.id());
            else onRepeat.accept(e.id(), dupMessage(file, e.id(), prev, e.line()));
        }
        return ids;
    }

    /** The ids of a list file; an id listed twice is refused. */
    public static List<String> ids(Path file) {
        return ids(file, (id, why) -> {
            throw new DataError(null, file, why);
        });
    }
}
