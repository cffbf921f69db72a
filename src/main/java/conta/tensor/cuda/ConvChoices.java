package conta.tensor.cuda;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The graph path's engine choices, saved in a file ({@code -Dconta.cuda.graphChoices=FILE}), so that a run whose
 * engines were measured replays them when it resumes: a measured choice depends on timing noise, and a resumed
 * deterministic run must repeat its sums exactly. One line per choice, tab-separated:
 * {@code context key rank engine how}, where context names the GPU, cuDNN and the settings the choice was made under
 * (lines of another context are kept but not used), key the direction, shapes and geometry, rank the config's
 * position in cuDNN's heuristic list for that key (what is replayed), engine its global index and a CRC of its plan
 * (checked on replay) and how it was chosen (heuristic, top or measured: a heuristic choice of the measuring mode is
 * the first use's, and the shape is still measured when it recurs).
 */
final class ConvChoices {
    /** A saved choice: the config's rank in the heuristic's list, the engine it named and how it was chosen. */
    record Choice(int rank, String engine, String how) {}

    private Path file;
    private final String context;
    private final Map<String, Choice> choices = new HashMap<>();

    /**
     * Reads the file if it exists (file null: choices kept in memory only). A malformed line is an error naming the
     * file, the line and the fix, except an unterminated last line, which a run killed while saving leaves: skipped.
     */
    ConvChoices(Path file, String context) {
        if (context.contains("\t") || context.contains("\n")) throw new IllegalArgumentException("context with a tab or newline: " + context);
        this.file = file;
        this.context = context;
        Saved saved = read(file, context);
        choices.putAll(saved.choices());
        cutOff = saved.cutOff();
    }

    /** The file's last line has no newline (a run killed while appending): the next save drops it first. */
    private boolean cutOff;

    /** What a file holds: its choices under this context, and whether its last line was cut off. */
    private record Saved(Map<String, Choice> choices, boolean cutOff) {}

    /** Truncates the file after its last newline: the line a killed run left half-written is dropped, not continued. */
    private static void dropCutOffLine(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        int end = b.length;
        while (end > 0 && b[end - 1] != '\n') end--;
        try (var ch = java.nio.channels.FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(end);
        }
    }

    /** The choices saved in file under context (none when file is null or absent); see the constructor for errors. */
    private static Saved read(Path file, String context) {
        Map<String, Choice> found = new HashMap<>();
        if (file == null || !Files.exists(file)) return new Saved(found, false);
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the cuDNN engine choices " + file + ": " + e.getMessage(), e);
        }
        List<String> lines = text.lines().toList();
        boolean unterminated = !text.isEmpty() && !text.endsWith("\n");
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip(); // strip: a \r from an editor that wrote CRLF
            if (line.isEmpty()) continue;
            String[] f = line.split("\t", -1);
            int rank = -1;
            if (f.length == 5) try { rank = Integer.parseInt(f[2]); } catch (NumberFormatException ignored) { /* reported below */ }
            if (rank < 0 && unterminated && i == lines.size() - 1) break;
            if (rank < 0) throw new conta.error.FormatError(file + ":" + (i + 1) + ": not a cuDNN engine choice (context, key, rank, engine, how"
                    + " separated by tabs); delete the file to choose the engines again");
            if (f[0].equals(context)) found.put(f[1], new Choice(rank, f[3], f[4]));
        }
        return new Saved(found, unterminated);
    }

    /**
     * From now on the choices are saved in file (a run folder's, given once the run is known): the file's choices
     * replace those made so far in memory, as a resumed run must repeat what its first part chose, and the choices
     * made so far that the file lacks are appended to it, so that it holds every choice the run may use. Returns how
     * many in-memory choices the file changed.
     */
    int attach(Path newFile) {
        Saved saved = read(newFile, context);
        Map<String, Choice> before = new HashMap<>(choices);
        file = newFile;
        cutOff = saved.cutOff();
        choices.putAll(saved.choices());
        int changed = 0;
        for (Map.Entry<String, Choice> e : before.entrySet()) {
            Choice s = saved.choices().get(e.getKey());
            if (s == null) try {
                put(e.getKey(), e.getValue());
            } catch (UncheckedIOException x) { // the plans are good; only their replay after a restart is lost, as in GraphEngines.choose
                System.err.println("conta: " + x.getMessage() + "; the engine choices of this run are not saved");
                file = null;
            } else if (!s.equals(e.getValue())) changed++;
        }
        return changed;
    }

    /** Whether the choices go to a file (else they last as long as the process). */
    boolean saved() { return file != null; }

    /** The saved choice for this key under this context, or null. */
    Choice get(String key) { return choices.get(key); }

    /** Saves a choice (appended to the file at once, so a run killed later keeps it). */
    void put(String key, Choice c) {
        for (String f : new String[]{key, c.engine(), c.how()})
            if (f.contains("\t") || f.contains("\n")) throw new IllegalArgumentException("a tab or newline in a choice: " + f);
        choices.put(key, c);
        if (file == null) return;
        try {
            if (file.getParent() != null) Files.createDirectories(file.getParent());
            if (cutOff) dropCutOffLine(file);
            Files.writeString(file, context + "\t" + key + "\t" + c.rank() + "\t" + c.engine() + "\t" + c.how() + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            cutOff = false;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the cuDNN engine choices " + file + ": " + e.getMessage(), e);
        }
    }
}
