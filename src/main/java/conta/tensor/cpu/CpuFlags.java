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
    private static Long l2;

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

    /**
     * The level-2 cache of one core in bytes, from /sys/devices/system/cpu/cpu0/cache (the unified or data cache of
     * level 2), or -1 where it cannot be read.
     */
    public static synchronized long l2Bytes() {
        if (l2 == null) {
            long found = -1;
            try (var dirs = Files.list(Path.of("/sys/devices/system/cpu/cpu0/cache"))) {
                for (Path d : dirs.filter(p -> p.getFileName().toString().startsWith("index")).toList()) {
                    if (!Files.readString(d.resolve("level")).strip().equals("2")) continue;
                    if (Files.readString(d.resolve("type")).strip().equals("Instruction")) continue;
                    found = cacheSize(Files.readString(d.resolve("size")));
                }
            } catch (IOException | RuntimeException e) {
                found = -1;
            }
            l2 = found;
        }
        return l2;
    }

    /**
     * Whether a core's L2 (l2Bytes, -1 unknown) holds 2 MB, as on the Intel hosts where the plan's own kernels were
     * measured: there the small-map kernel (GemmConv, session 29) and the Winograd kernel's wide-layer blocks (session
     * 30) are on by default. Both keep a panel, the next one and their rows or blocks in L2; the AMD hosts' 1 MB keeps
     * them off until measured there (bench/latency.sh plan-gemm / plan-nogemm, plan-wideblocks / plan-narrowblocks).
     */
    static boolean largeL2(long l2Bytes) { return l2Bytes >= 2L << 20; }

    /** A sysfs cache size ("2048K", "1M", "512") in bytes, or -1 if it is not one. */
    static long cacheSize(String s) {
        String t = s.strip();
        long unit = t.endsWith("K") ? 1024 : t.endsWith("M") ? 1024 * 1024 : 1;
        try {
            long n = Long.parseLong(unit == 1 ? t : t.substring(0, t.length() - 1));
            return n < 0 ? -1 : n * unit;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
