package conta.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.error.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PrecisionTest {
    @Test
    void parsesTheFlag() {
        assertEquals(Precision.FP32, Precision.parse("fp32"));
        assertEquals(Precision.BF16, Precision.parse("BF16"));
        assertEquals(Precision.AUTO, Precision.parse(" auto "));
        UserError e = assertThrows(UserError.class, () -> Precision.parse("fp16"));
        assertTrue(e.getMessage().contains("--precision"), e.getMessage());
    }

    @Test
    void autoIsBf16ExactlyWhereTheCpuListsAmx() throws Exception {
        // the flags line parsed word by word (Precision searches the whole text)
        boolean amx = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("flags"))
                .anyMatch(l -> Arrays.asList(l.split("\\s+")).contains("amx_bf16"));
        assertEquals(amx ? Precision.BF16 : Precision.FP32, Precision.AUTO.resolve());
        assertEquals(Precision.FP32, Precision.FP32.resolve());
        assertEquals(Precision.BF16, Precision.BF16.resolve());
    }
}
