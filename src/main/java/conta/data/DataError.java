package conta.data;

import java.nio.file.Path;

/** A problem with a dataset file; the message names the file and how to fix it. */
public class DataError extends RuntimeException {
    private final transient Path file;
    private final String id;

    public DataError(String id, Path file, String message) {
        super(message);
        this.id = id;
        this.file = file;
    }

    public DataError(String id, Path file, String message, Throwable cause) {
        super(message, cause);
        this.id = id;
        this.file = file;
    }

    /** A read failure of file: the message names the file (prefixed when the reader's message does not). */
    public static DataError of(String id, Path file, java.io.IOException e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof java.nio.file.NoSuchFileException) m = "does not exist";
        else if (e instanceof java.nio.file.AccessDeniedException) m = "permission denied; make it readable";
        return new DataError(id, file, m.contains(file.toString()) ? m : file + ": " + m, e);
    }

    /** The same error with the way around it that a run has: leaving the item out (--skip-bad, key data.skip_bad). */
    public DataError orSkip() {
        return getMessage().contains("--skip-bad") ? this : new DataError(id, file, getMessage() + " (or rerun with --skip-bad, in compare and demo --set data.skip_bad=true, to leave it out)", this);
    }

    public Path file() { return file; }

    public String id() { return id; }

    public BadItem asBad() { return new BadItem(id, file, getMessage()); }
}
