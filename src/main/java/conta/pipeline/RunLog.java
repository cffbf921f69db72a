package conta.pipeline;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Copies the console (stdout and stderr) of a pipeline run to OUT/run.log, appending across resumed runs with a
 * header line per run. A progress bar redrawn in place on a terminal ({@code \r}) reaches the file as its final
 * state only. The copy starts with the run ({@link #capture}), but the file is only written once the run holds OUT's
 * lock ({@link #startFile}): what was printed before (the device chosen, a stale lock taken over, the config's
 * warnings) is held in memory until then, and dropped when the run is refused, which writes nothing. Closing restores
 * the previous streams, so nested runs (compare) each log to their own folder.
 */
public final class RunLog implements AutoCloseable {
    public static final String FILE = "run.log";
    private final PrintStream oldOut, oldErr;
    private final LineFile file;
    private final Instant started = Instant.now().truncatedTo(ChronoUnit.SECONDS);

    private RunLog(PrintStream oldOut, PrintStream oldErr, LineFile file) {
        this.oldOut = oldOut;
        this.oldErr = oldErr;
        this.file = file;
    }

    /** Starts copying the console; held in memory until {@link #startFile}. */
    public static RunLog capture() {
        RunLog r = new RunLog(System.out, System.err, new LineFile(new ByteArrayOutputStream()));
        // no autoflush: it would flush the console at every piece of a printf (the CLI's console streams flush whole lines)
        System.setOut(new PrintStream(new Tee(r.oldOut, r.file), false, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(new Tee(r.oldErr, r.file), false, StandardCharsets.UTF_8));
        return r;
    }

    /** From now on the copy goes to OUT/run.log (appended), after a header line and what was held so far. */
    public void startFile(Path out) {
        Path f = out.resolve(FILE);
        System.out.flush();
        System.err.flush();
        try {
            Files.createDirectories(out);
            String cmd = System.getProperty("sun.java.command", ""); // the launcher's java command: which flags this run had
            String how = cmd.startsWith("conta.cli.Main ") ? ": conta " + cmd.substring("conta.cli.Main ".length()) : "";
            file.moveTo(Files.newOutputStream(f, StandardOpenOption.CREATE, StandardOpenOption.APPEND), "== conta run started " + started + how);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + f + ": " + e.getMessage(), e);
        }
    }

    /** A line for the file only (once it is written): what ended the run, which the console shows in its own words. */
    public void fileOnly(String line) {
        try {
            if (file.onFile()) file.writeLine(line);
        } catch (IOException e) {
            // the console has it; a log that cannot take one more line is not worth a second error
        }
    }

    @Override
    public void close() {
        System.out.flush();
        System.err.flush();
        System.setOut(oldOut);
        System.setErr(oldErr);
        file.close();
    }

    /**
     * Every distinct warning line of a run.log ("warning: ..."), in order of first appearance: the run's warnings for
     * the report, across all the (resumed) runs that wrote it.
     */
    public static List<String> warnings(Path out) {
        Path f = out.resolve(FILE);
        LinkedHashSet<String> w = new LinkedHashSet<>();
        try {
            if (Files.isRegularFile(f))
                for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                    int i = line.indexOf("warning:");
                    if (i >= 0) w.add(line.substring(i).strip());
                }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new ArrayList<>(w);
    }

    /** Writes to the console and, line by line, to the file. */
    private static final class Tee extends OutputStream {
        private final OutputStream console;
        private final LineFile file;

        Tee(OutputStream console, LineFile file) {
            this.console = console;
            this.file = file;
        }

        @Override public void write(int b) throws IOException { console.write(b); file.accept(b); }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            console.write(b, off, len);
            for (int i = off; i < off + len; i++) file.accept(b[i]);
        }

        @Override public void flush() throws IOException { console.flush(); }
    }

    /**
     * The file side: a '\r' discards the line so far (a redrawn bar), a '\n' writes it. Shared by both streams. Writes
     * to memory until {@link #moveTo} hands it the file.
     */
    private static final class LineFile {
        private OutputStream out;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        LineFile(OutputStream out) { this.out = out; }

        /** Writes header and the lines held in memory to file, and every later line there. */
        synchronized void moveTo(OutputStream file, String header) throws IOException {
            byte[] held = out instanceof ByteArrayOutputStream b ? b.toByteArray() : new byte[0];
            out = file;
            out.write((header + "\n").getBytes(StandardCharsets.UTF_8)); // not writeLine: a line in progress stays after the held ones
            out.write(held);
            out.flush();
        }

        /** Whether the lines go to the file yet (until moveTo they are held in memory). */
        synchronized boolean onFile() { return !(out instanceof ByteArrayOutputStream); }

        synchronized void accept(int b) throws IOException {
            if (b == '\r') {
                if (line.size() > 0) pending = line.toByteArray();
                line.reset();
            } else if (b == '\n') {
                byte[] l = line.size() == 0 && pending != null ? pending : line.toByteArray();
                pending = null;
                line.reset();
                out.write((new String(l, StandardCharsets.UTF_8).stripTrailing() + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            } else {
                line.write(b);
            }
        }

        private byte[] pending;

        synchronized void writeLine(String s) throws IOException {
            if (line.size() > 0 || pending != null) accept('\n'); // a progress bar left mid-line comes first, as on the console
            out.write((s + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        synchronized void close() {
            try {
                if (line.size() > 0 || pending != null) accept('\n');
                out.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
