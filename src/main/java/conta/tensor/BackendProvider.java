package conta.tensor;

/**
 * One kind of device ({@code cpu}, {@code cuda}) as {@link Backends} finds it: through java.util.ServiceLoader
 * (META-INF/services/conta.tensor.BackendProvider), so the abstraction never imports an implementation and a jar
 * without the CUDA classes still selects the CPU.
 */
public interface BackendProvider {
    /** The device-spec word it answers ({@code cpu} or {@code cuda}). */
    String kind();

    /** Preference under {@code --device auto}: the usable provider with the highest value wins. */
    int autoPriority();

    /** Why this kind cannot run on this machine (one line), or null when it can. */
    String unavailableReason();

    /** A backend on device {@code index} (always 0 for the host). */
    Backend open(int index);

    /**
     * The same with convolutions in bfloat16 (f32 accumulation, f32 weights, gradients and updates) when {@code bf16};
     * a provider without bf16 convolutions throws UnsupportedOperationException saying so.
     */
    default Backend open(int index, boolean bf16) {
        if (bf16) throw new UnsupportedOperationException("the " + kind() + " backend has no bf16 convolutions yet");
        return open(index);
    }
}
