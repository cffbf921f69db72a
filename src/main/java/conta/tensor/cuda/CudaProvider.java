package conta.tensor.cuda;

import conta.tensor.Backend;
import conta.tensor.BackendProvider;

/** NVIDIA GPUs for {@link conta.tensor.Backends}: preferred under auto when the runtime probe finds a device. */
public final class CudaProvider implements BackendProvider {
    @Override public String kind() { return "cuda"; }

    @Override public int autoPriority() { return 10; }

    @Override public String unavailableReason() { return CudaRuntime.unavailableReason(); }

    @Override public Backend open(int index) { return new CudaBackend(index); }
}
