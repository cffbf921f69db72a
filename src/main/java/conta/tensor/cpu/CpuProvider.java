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
}
