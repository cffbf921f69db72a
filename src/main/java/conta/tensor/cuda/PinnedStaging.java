package conta.tensor.cuda;

import static org.bytedeco.cuda.global.cudart.*;

import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * One page-locked host buffer through which a backend's transfers go, all on the backend's stream. An upload copies
 * into the buffer, queues cudaMemcpyAsync and records an event, and returns at once: the next transfer waits on that
 * event before it overwrites the buffer (pageable memory made every upload a synchronous staging copy by the driver,
 * and the old code waited for the stream after each). A read queues its copy on the same stream and waits for the
 * stream, so it sees every op queued before it (a cudaMemcpy on the legacy stream would not be ordered with work on a
 * non-blocking stream). Grows to the largest transfer up to CHUNK bytes; larger transfers go in chunks.
 */
final class PinnedStaging implements AutoCloseable {
    static final long CHUNK = 64L << 20;
    private final CUstream_st stream;
    private final CUevent_st copied = new CUevent_st();
    private Pointer host;
    private long bytes;
    private boolean pending;

    PinnedStaging(CUstream_st stream) {
        this.stream = stream;
        CudaRuntime.check(cudaEventCreateWithFlags(copied, cudaEventDisableTiming), "cudaEventCreateWithFlags", "pinned staging");
    }

    /** Waits until the buffer's last upload has left it. */
    private void drain(String op) {
        if (!pending) return;
        CudaRuntime.check(cudaEventSynchronize(copied), "cudaEventSynchronize (an earlier asynchronous op failed;"
                + " rerun with -Dconta.cuda.sync=true to name it)", op);
        pending = false;
    }

    private void ensure(long n, String op) {
        if (bytes >= n) return;
        drain(op);
        if (host != null) cudaFreeHost(host);
        host = null;
        bytes = 0;
        Pointer p = new Pointer();
        CudaRuntime.check(cudaMallocHost(p, n), "cudaMallocHost(" + n + " bytes)", op);
        host = p;
        bytes = n;
    }

    /** dst[0..src.length) = src on the stream; returns before the copy has run. */
    synchronized void upload(float[] src, long dst, String op) {
        for (long off = 0; off < src.length; ) {
            int n = (int) Math.min(src.length - off, CHUNK / 4);
            drain(op);
            ensure(n * 4L, op);
            new FloatPointer(host).put(src, (int) off, n);
            CudaRuntime.check(cudaMemcpyAsync(new DevPtr(dst + off * 4), host, n * 4L, cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync", op);
            CudaRuntime.check(cudaEventRecord(copied, stream), "cudaEventRecord", op);
            pending = true;
            off += n;
        }
    }

    /** Ints to the device (the walk's path table), as upload. */
    synchronized void uploadInts(int[] src, long dst, String op) {
        drain(op);
        ensure(Math.max(4L, src.length * 4L), op);
        new IntPointer(host).put(src);
        CudaRuntime.check(cudaMemcpyAsync(new DevPtr(dst), host, src.length * 4L, cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync", op);
        CudaRuntime.check(cudaEventRecord(copied, stream), "cudaEventRecord", op);
        pending = true;
    }

    /** Copies `n` bytes at src into the buffer in stream order and waits for the stream; returns the buffer. */
    private Pointer read(long src, long n, String op) {
        drain(op);
        ensure(Math.max(8L, n), op);
        CudaRuntime.check(cudaMemcpyAsync(host, new DevPtr(src), n, cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync", op);
        CudaRuntime.check(cudaStreamSynchronize(stream), "cudaStreamSynchronize (an earlier asynchronous op failed;"
                + " rerun with -Dconta.cuda.sync=true to name it)", op);
        return host;
    }

    synchronized float[] downloadFloats(long src, int count, String op) {
        float[] out = new float[count];
        for (long off = 0; off < count; ) {
            int n = (int) Math.min(count - off, CHUNK / 4);
            new FloatPointer(read(src + off * 4, n * 4L, op)).get(out, (int) off, n);
            off += n;
        }
        return out;
    }

    synchronized double[] downloadDoubles(long src, int count, String op) {
        double[] out = new double[count];
        new DoublePointer(read(src, count * 8L, op)).get(out);
        return out;
    }

    synchronized int[] downloadInts(long src, int count, String op) {
        int[] out = new int[count];
        new IntPointer(read(src, count * 4L, op)).get(out);
        return out;
    }

    @Override
    public synchronized void close() {
        if (pending) cudaEventSynchronize(copied);
        if (host != null) cudaFreeHost(host);
        host = null;
        cudaEventDestroy(copied);
    }
}
