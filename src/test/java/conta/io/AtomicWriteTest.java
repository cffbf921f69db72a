package conta.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.error.UserError;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The temp-file-and-rename write: what it leaves behind when it fails, and which file its errors name. */
class AtomicWriteTest {
    @TempDir Path dir;

    @Test
    void writesAndReplacesWithNoTempFileLeft() throws IOException {
        Path f = dir.resolve("sub/a.bin");
        AtomicWrite.write(f, new byte[]{1, 2, 3});
        AtomicWrite.write(f, new byte[]{4});
        assertArrayEquals(new byte[]{4}, Files.readAllBytes(f));
        assertFalse(Files.exists(dir.resolve("sub/a.bin.tmp")));
    }

    @Test
    void aFolderAsTheTargetIsRefusedBeforeAnythingIsWritten() throws IOException {
        Path folder = Files.createDirectories(dir.resolve("syn"));
        int[] bodies = {0};
        UserError e = assertThrows(UserError.class, () -> AtomicWrite.write(folder, ch -> bodies[0]++));
        assertEquals(folder + " is a folder; give the name of a file to write", e.getMessage());
        assertEquals(0, bodies[0]);
        assertFalse(Files.exists(dir.resolve("syn.tmp")));
    }

    @Test
    void aFailingRenameLeavesNoTempFileAndNamesTheTarget() throws IOException {
        // a folder that appears at the target while the body runs: the rename over it fails (not empty)
        Path f = dir.resolve("late");
        FileSystemException e = assertThrows(FileSystemException.class, () -> AtomicWrite.write(f, ch -> {
            Files.createDirectories(f.resolve("inside"));
            AtomicWrite.writeFully(ch, java.nio.ByteBuffer.wrap(new byte[]{1}));
        }));
        assertEquals(f.toAbsolutePath().toString(), e.getFile());
        assertFalse(Files.exists(dir.resolve("late.tmp")), "the .tmp is removed");
        assertTrue(Files.isDirectory(f.resolve("inside")), "what was there is left alone");
    }

    /**
     * A full disk (the system's ENOSPC, from a write to /dev/full) is reported on the target like the other file system
     * problems, so the CLI names the file and says to free space (it was a bare IOException: "internal error").
     */
    @Test
    void aFullDiskNamesTheTargetAndLeavesNoTempFile() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(Path.of("/dev/full")), "no /dev/full here");
        Path f = dir.resolve("cam.npz");
        FileSystemException e = assertThrows(FileSystemException.class, () -> AtomicWrite.write(f, ch -> Files.write(Path.of("/dev/full"), new byte[]{1})));
        assertEquals(f.toAbsolutePath().toString(), e.getFile());
        assertEquals("No space left on device", e.getReason());
        assertFalse(Files.exists(dir.resolve("cam.npz.tmp")), "the .tmp is removed");
    }

    /**
     * In a non-English locale the system's ENOSPC message is in that language, and the English words miss it: a write
     * that fails where the file system has (almost) nothing left is a full disk all the same, said in words the CLI
     * knows. With space left, the same failure is passed on as it was.
     */
    @Test
    void aFullDiskInAnotherLanguageIsStillAFullDisk() {
        Path f = dir.resolve("seeds.png");
        var old = AtomicWrite.usableBytes;
        try {
            AtomicWrite.usableBytes = p -> 4096;
            FileSystemException e = assertThrows(FileSystemException.class, () -> AtomicWrite.write(f, ch -> {
                throw new IOException("Auf dem Gerät ist kein Speicherplatz mehr verfügbar");
            }));
            assertEquals(f.toAbsolutePath().toString(), e.getFile());
            assertEquals("No space left on device (Auf dem Gerät ist kein Speicherplatz mehr verfügbar)", e.getReason());
            assertFalse(Files.exists(dir.resolve("seeds.png.tmp")), "the .tmp is removed");
            AtomicWrite.usableBytes = p -> 10L << 30;
            IOException kept = assertThrows(IOException.class, () -> AtomicWrite.write(f, ch -> {
                throw new IOException("Eingabe-/Ausgabefehler");
            }));
            assertFalse(kept instanceof FileSystemException, "an I/O error with space left is not a full disk: " + kept);
            assertEquals("Eingabe-/Ausgabefehler", kept.getMessage());
        } finally {
            AtomicWrite.usableBytes = old;
        }
    }
}
