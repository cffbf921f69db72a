package conta.tensor.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The CPU features conta's choices depend on, read once from /proc/cpuinfo. Hosts of one machine kind differ (some
 * have AMX, some only AVX512-BF16), so these are read, never assumed.
 */
public final class CpuFlags {
    private CpuFlags() { }

    private static Boolean amx;

    /** Whether /proc/cpuinfo lists amx_bf16 (false where it cannot be read): bf16 tile units, which oneDNN uses. */
    public static synchronized boolean amx() {
        if (amx == null) {
            try {
                amx = Files.readString(Path.of("/proc/cpuinfo")).contains(" amx_bf16");
            } catch (IOException | RuntimeException e) {
                amx = false;
            }
        }
        return amx;
    }
}
