package conta.io;

import conta.error.UserError;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a file so readers never see half of it: data goes to {@code NAME.tmp} in the same folder, is fsynced, then
 * renamed over {@code NAME}. A crash leaves at most a stale .tmp behind; a failure that is not a crash leaves none.
 * Problems are reported on NAME, the file the user asked for, never on the .tmp they have not heard of.
 */
public final class AtomicWrite {
    private AtomicWrite() { }

    public interface Body {
        void write(FileChannel ch) throws IOException;
    }

    public static void write(Path target, Body body) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir != null) Files.createDirectories(dir);
        if (Files.isDirectory(abs)) // checked before the body runs: the rename over a folder would fail only at the end
            throw new UserError(target + " is a folder; give the name of a file to write");
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                body.write(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (FileSystemException e) {
            Files.deleteIfExists(tmp);
            throw onTarget(e, tmp, abs);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            if (!noSpace(e, abs.getParent())) throw e;
            // a full disk is a plain IOException from the write: said of the target, as a file system problem, so that
            // the CLI names the file and the fix instead of reporting an internal error; in the words the CLI knows
            // when the system said it in another language
            String reason = noSpace(e) ? e.getMessage() : "No space left on device (" + e.getMessage() + ")";
            FileSystemException t = new FileSystemException(abs.toString(), null, reason);
            t.initCause(e);
            throw t;
        } catch (RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        if (dir != null) syncDir(dir);
    }

    /** The same problem (the same exception type, so callers word it alike) said of the target instead of its .tmp. */
    private static FileSystemException onTarget(FileSystemException e, Path tmp, Path target) {
        if (!tmp.toString().equals(e.getFile())) return e;
        FileSystemException t = e instanceof AccessDeniedException ? new AccessDeniedException(target.toString(), null, e.getReason())
                : e instanceof NoSuchFileException ? new NoSuchFileException(target.toString(), null, e.getReason())
                : new FileSystemException(target.toString(), null, e.getReason());
        t.initCause(e);
        return t;
    }

    /** Whether e is the system's "no space left on device" (ENOSPC) or "disk quota exceeded" (EDQUOT), in English. */
    public static boolean noSpace(IOException e) {
        String m = e.getMessage();
        return m != null && (m.contains("No space left on device") || m.contains("Disk quota exceeded"));
    }

    /**
     * The same, or a write that failed where the file system has less than {@link #FULL_BELOW} bytes left: the JVM
     * gives the system's message in the user's language ("Auf dem Gerät ist kein Speicherplatz mehr verfügbar" in a
     * German locale), which the English words miss.
     */
    static boolean noSpace(IOException e, Path where) {
        if (noSpace(e)) return true;
        if (where == null) return false;
        try {
            return usableBytes.applyAsLong(where) < FULL_BELOW;
        } catch (RuntimeException unknown) {
            return false;
        }
    }

    /** Free bytes under which a failed write counts as a full disk: a file system with 1 MiB left is full for a run. */
    static final long FULL_BELOW = 1 << 20;

    /** The usable bytes of a folder's file system (tests swap it); unknown counts as plenty. */
    static java.util.function.ToLongFunction<Path> usableBytes = p -> {
        try {
            return Files.getFileStore(p).getUsableSpace();
        } catch (IOException e) {
            return Long.MAX_VALUE; // unknown: not taken for a full disk
        }
    };

    /** fsync of the folder makes the rename itself durable; not possible everywhere, so best effort. */
    private static void syncDir(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // e.g. Windows cannot open folders; the rename is still atomic
        }
    }

    public static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    /** Writes bytes to target atomically (temp file, fsync, rename). */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, ch -> writeFully(ch, ByteBuffer.wrap(bytes)));
    }
}
