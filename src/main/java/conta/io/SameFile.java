package conta.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether two paths name the same file or folder, links followed, for the guards that refuse to write over their own
 * input (--out in the data folder, an output that is the input, one COCO image listed by two instance files).
 */
public final class SameFile {
    private SameFile() { }

    /** True when both exist and are one file; false where either is missing or cannot be read (never throws). */
    public static boolean test(Path a, Path b) {
        try {
            return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
        } catch (IOException | SecurityException e) {
            return false;
        }
    }
}
