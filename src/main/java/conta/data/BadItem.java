package conta.data;

import java.nio.file.Path;

/** An entry left out under --skip-bad: which id, which file, and why. */
public record BadItem(String id, Path file, String reason) {
    @Override
    public String toString() { return id + ": " + reason; }
}
