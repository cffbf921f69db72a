package conta.tensor.cpu;

import conta.tensor.Backend;
import conta.tensor.BackendProvider;

/** The host backend for {@link conta.tensor.Backends}: always available, the lowest preference under auto. */
public final class CpuProvider implements BackendProvider {
    @Override public String kind() { return "cpu"; }

    @Override public int autoPriority() { return 0; }

    @Override public String unavailableReason() { return null; }

    @Override public Backend open(int index) {
        if (index != 0) throw new IllegalArgumentException("cpu has no device " + index);
        return new CpuBackend();
    }

    /** bf16: oneDNN's bf16 convolutions ({@link CpuBackend.ConvImpl#DNNL_BF16}); needs oneDNN. */
    @Override public Backend open(int index, boolean bf16) {
        if (!bf16) return open(index);
        if (index != 0) throw new IllegalArgumentException("cpu has no device " + index);
        return new CpuBackend(CpuBackend.ConvImpl.DNNL_BF16);
    }
}
