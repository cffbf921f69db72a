package conta.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.error.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunLockTest {
    /**
     * An interrupted run releases OUT's lock twice: from its shutdown hook (Methods.run) and when its main thread leaves
     * the try-with-resources. A run that took OUT between the two (here in this process, as compare's runs and the tests
     * are) lost its lock file and its place in HELD to the second close, so a third run was let in beside it.
     */
    @Test
    void aSecondCloseLeavesTheNextHoldersLockAlone(@TempDir Path out) throws Exception {
        RunLock interrupted = RunLock.acquire(out);
        interrupted.close(); // the shutdown hook
        RunLock next = RunLock.acquire(out);
        String holder = Files.readString(out.resolve(RunLock.FILE));
        interrupted.close(); // the interrupted run's main thread, leaving its try-with-resources
        assertTrue(Files.exists(out.resolve(RunLock.FILE)), "the next run's lock is still there");
        assertEquals(holder, Files.readString(out.resolve(RunLock.FILE)));
        assertThrows(UserError.class, () -> RunLock.acquire(out), "a third run is still refused");
        next.close();
        assertFalse(Files.exists(out.resolve(RunLock.FILE)), "released by its holder");
    }
}
