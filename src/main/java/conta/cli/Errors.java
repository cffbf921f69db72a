package conta.cli;

import conta.data.DataError;
import conta.error.FormatError;
import conta.error.UserError;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.ReadOnlyFileSystemException;

/** Sorts a command's failure into a user problem (exit 2, one line) or an internal error (exit 1), and words both. */
final class Errors {
    private Errors() { }

    /**
     * The one-line message of a problem the user can fix, or null for an internal error. Looks through the causes:
     * an UncheckedIOException around a read-only OUT is the user's, whatever wrapped it.
     */
    static String userMessage(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof UserError || t instanceof DataError || t instanceof FormatError) return t.getMessage();
            if (t instanceof FileSystemException f) return fileProblem(f);
            if (t instanceof ReadOnlyFileSystemException) return "the output location is on a read-only file system; choose a writable folder";
            if (t instanceof java.io.IOException io && conta.io.AtomicWrite.noSpace(io)) // a plain write's full disk: the outer message names the file
                return (e.getMessage() == null ? io.getMessage() : e.getMessage().replace(io.getClass().getName() + ": ", ""))
                        + "; free some disk space or choose another --out";
        }
        return null;
    }

    /** A path problem in words, naming the file and what to do. */
    static String fileProblem(FileSystemException f) {
        String file = f.getFile() == null ? "a file" : f.getFile();
        if (f instanceof NoSuchFileException) return file + " does not exist (or its folder does not); check the path";
        if (f instanceof AccessDeniedException) return "permission denied on " + file + "; make it (or its folder) writable/readable or choose another path";
        if (f instanceof NotDirectoryException) return file + " is not a folder; give a folder path";
        String reason = f.getReason() == null ? "cannot be accessed" : f.getReason();
        String fix = reason.toLowerCase(java.util.Locale.ROOT).contains("read-only") ? "choose a writable --out"
                : reason.toLowerCase(java.util.Locale.ROOT).contains("space") ? "free some disk space or choose another --out" : "check the path and its permissions";
        return file + ": " + reason + "; " + fix;
    }

    /** An internal error's message; the class name only where there is no message (e.g. a NullPointerException without one). */
    static String internalMessage(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
