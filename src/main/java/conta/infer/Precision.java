package conta.infer;

import conta.error.UserError;
import java.util.Locale;

/**
 * Arithmetic of an {@link InferencePlan}: fp32, or bf16 (bfloat16 weights and activations, f32 accumulation and
 * biases), or auto = bf16 where the CPU has AMX (its bf16 tile units make it pay) and fp32 elsewhere.
 */
public enum Precision {
    FP32, BF16, AUTO;

    /** --precision fp32|bf16|auto. */
    public static Precision parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserError("--precision must be fp32, bf16 or auto, got '" + s + "'");
        }
    }

    /** FP32 or BF16: auto decided by the CPU flags (amx_bf16 in /proc/cpuinfo), without a word (the API: its caller asks precision()). */
    public Precision decide() { return this != AUTO ? this : cpuHasAmx() ? BF16 : FP32; }

    /** The same, announced once per process on stderr (the command line). */
    public Precision resolve() {
        if (this != AUTO) return this;
        Precision p = decide();
        synchronized (Precision.class) {
            if (!announced) System.err.println("conta: --precision auto: " + (p == BF16 ? "bf16 (this CPU has AMX)" : "fp32 (no AMX on this CPU)"));
            announced = true;
        }
        return p;
    }

    private static boolean announced;

    /** Whether /proc/cpuinfo lists amx_bf16 (false where it cannot be read). */
    public static boolean cpuHasAmx() { return conta.tensor.cpu.CpuFlags.amx(); }
}
