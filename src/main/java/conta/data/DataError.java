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

    public Path file() { return file; }

    public String id() { return id; }

    public BadItem asBad() { return new BadItem(id, file, getMessage()); }
}
