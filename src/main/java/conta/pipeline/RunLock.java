package conta.pipeline;

import conta.error.UserError;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * OUT/run.lock for the duration of a run, so two pipelines never train the same stages into one folder. The file
 * holds "pid host start"; it is created atomically (CREATE_NEW), so of two runs starting together exactly one wins.
 * A lock left by a process that no longer runs on this host (kill -9, power loss) is taken over with a message; a
 * live holder, or one on another host (whose PID cannot be checked from here), makes the second run exit with code 2
 * naming it. Runs inside one JVM (tests, compare) are told apart by the set of folders this process holds.
 */
public final class RunLock implements AutoCloseable {
    static final String FILE = "run.lock";
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();
    private final Path file;
    /** What this lock wrote ("pid host start", then " interrupted"): close removes the file only while it still holds this. */
    private volatile String me;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private RunLock(Path file, String me) {
        this.file = file;
        this.me = me;
    }

    /**
     * Takes OUT's lock (creating OUT), or throws a UserError naming the holder. Synchronized so that a run of this
     * process that has just created the file is in HELD before another thread of it reads the file.
     */
    public static synchronized RunLock acquire(Path out) {
        Path f = out.toAbsolutePath().normalize().resolve(FILE);
        String me = ProcessHandle.current().pid() + " " + host() + " " + java.time.Instant.now();
        try {
            Files.createDirectories(f.getParent());
            for (int attempt = 0; attempt < 3; attempt++) {
                try {
                    Files.write(f, me.getBytes(StandardCharsets.UTF_8), java.nio.file.StandardOpenOption.CREATE_NEW,
                            java.nio.file.StandardOpenOption.WRITE);
                    HELD.add(f);
                    return new RunLock(f, me);
                } catch (FileAlreadyExistsException e) {
                    String holder;
                    try {
                        holder = Files.readString(f).strip();
                    } catch (java.nio.file.NoSuchFileException gone) {
                        continue; // released between the two calls: try again
                    }
                    if (!stale(f, holder))
                        throw new UserError(out + " is in use by another run (" + describe(holder) + ", lock " + f
                                + "); wait for it to finish or use another --out; if no run is going (e.g. its machine went down), delete " + f);
                    if (!holder.endsWith(INTERRUPTED)) // a run ended by Ctrl-C marked its lock: taking it over is the resume it asked for
                        System.err.println("note: taking over the stale lock " + f + " of " + describe(holder) + ", which no longer runs");
                    Files.deleteIfExists(f);
                }
            }
            throw new UserError("cannot take the lock " + f + ": it keeps reappearing; another run is starting on " + out + "; use another --out");
        } catch (IOException e) {
            throw new UserError("cannot create the lock file " + f + " (" + e.getMessage() + "); --out must be a writable folder");
        }
    }

    /** Whether a holder line names a process of this host that no longer runs (and is not this process's run). */
    private static boolean stale(Path f, String holder) {
        String[] p = holder.split(" ");
        long pid;
        try {
            pid = Long.parseLong(p[0]);
        } catch (NumberFormatException e) {
            return true; // an empty or garbled lock (killed while writing it) protects nothing
        }
        if (p.length < 2 || !p[1].equals(host())) return false;
        if (pid == ProcessHandle.current().pid()) return !HELD.contains(f);
        return ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true);
    }

    private static String describe(String holder) {
        String[] p = holder.split(" ");
        return "PID " + p[0] + (p.length > 1 ? " on " + p[1] : "") + (p.length > 2 ? " since " + p[2] : "");
    }

    static String host() {
        String h = System.getenv("HOSTNAME");
        if (h != null && !h.isBlank()) return h.strip();
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    /** The mark a run interrupted by Ctrl-C or a TERM adds to its lock line. */
    static final String INTERRUPTED = " interrupted";

    /**
     * Marks the lock as that of a run interrupted on purpose (its shutdown hook). The lock stays held while the JVM
     * finishes its way out (its threads still run and may write), and the resume that follows takes it over once this
     * process is gone without the stale-lock note, which is for a kill -9 or a crash.
     */
    public void markInterrupted() {
        if (closed.get() || me.endsWith(INTERRUPTED)) return;
        String marked = me + INTERRUPTED;
        try {
            if (!me.equals(Files.readString(file, StandardCharsets.UTF_8))) return; // not ours any more
            Files.writeString(file, marked, StandardCharsets.UTF_8);
            me = marked;
        } catch (IOException e) {
            // unmarked, the lock is still taken over once this process is gone, with the note
        }
    }

    /**
     * Releases the lock, once: a run interrupted by Ctrl-C closes it from its shutdown hook and again when its main
     * thread leaves the run, and by then another run may hold OUT; its lock file (and its place in HELD) is left alone.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        try {
            if (!me.equals(Files.readString(file, StandardCharsets.UTF_8))) return; // taken over since (this run was thought gone)
            HELD.remove(file);
            Files.deleteIfExists(file);
        } catch (java.nio.file.NoSuchFileException gone) {
            HELD.remove(file);
        } catch (IOException e) {
            HELD.remove(file);
            System.err.println("warning: cannot remove the lock " + file + " (" + e.getMessage() + "); the next run will take it over");
        }
    }
}
