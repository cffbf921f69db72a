package conta.tensor;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Backend that forwards every call to another one and counts the host <-> device traffic: upload (host to device),
 * download (device to host, which Tensor.toArray and item use) and the ops that hand a device value back as a Java
 * number (sum and the losses). Tensors it makes carry it as their backend, so every op on them passes through here. A
 * dynamic proxy, so that ops added to Backend later are forwarded without edits.
 */
public final class CountingBackend {
    public final AtomicLong uploads = new AtomicLong(), downloads = new AtomicLong(), scalarReads = new AtomicLong();
    public final Backend backend;

    public CountingBackend(Backend inner) {
        backend = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, (proxy, m, args) -> {
            switch (m.getName()) {
                case "upload" -> uploads.incrementAndGet();
                case "download" -> downloads.incrementAndGet();
                case "sum", "multilabelSoftMarginLoss", "bceWithLogitsLoss", "crossEntropyLoss" -> scalarReads.incrementAndGet();
                default -> { }
            }
            Object r;
            try {
                r = m.invoke(inner, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            if (m.getName().equals("empty")) { // the same memory, owned by a tensor that names this backend
                Tensor t = (Tensor) r;
                return new Tensor((Backend) proxy, t.storage(), t.dtype(), t.layout(), t.shape());
            }
            return r;
        });
    }

    /** All transfers so far: uploads + downloads + scalar reads. */
    public long total() { return uploads.get() + downloads.get() + scalarReads.get(); }

    public void reset() {
        uploads.set(0);
        downloads.set(0);
        scalarReads.set(0);
    }

    @Override
    public String toString() { return "uploads " + uploads + ", downloads " + downloads + ", scalar reads " + scalarReads; }
}
