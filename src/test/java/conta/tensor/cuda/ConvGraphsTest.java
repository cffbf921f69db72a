package conta.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.junit.jupiter.api.Test;

/**
 * The one-element attribute arrays CudnnGraph builds for to cudnnBackendSetAttribute (no GPU needed: plain JavaCPP memory).
 * JavaCPP's single-argument constructors allocate or cast instead (new LongPointer(2L) is two uninitialised longs,
 * new PointerPointer(d) is d itself): cuDNN would read garbage or the descriptor's own bytes.
 */
class ConvGraphsTest {
    @Test
    void oneValueArraysHoldTheValue() {
        LongPointer two = CudnnGraph.int64(2);
        assertEquals(1, two.capacity(), "one element");
        assertEquals(2, two.get(0));
        LongPointer pads = CudnnGraph.int64(3, 5);
        assertEquals(2, pads.capacity());
        assertEquals(5, pads.get(1));
        IntPointer zero = CudnnGraph.int32(0);
        assertEquals(1, zero.capacity(), "CUDNN_DATA_FLOAT is 0: an array of one 0, not an empty allocation");
        assertEquals(0, zero.get(0));
    }

    @Test
    void aDescriptorReferenceIsAnArrayHoldingItsAddress() {
        try (LongPointer target = new LongPointer(4)) { // any native object stands in for a descriptor
            PointerPointer<Pointer> ref = CudnnGraph.ref(target);
            assertEquals(1, ref.capacity());
            assertEquals(target.address(), ref.get(0).address(), "element 0 is the descriptor's address");
            assertEquals(false, ref.address() == target.address(), "not a cast of the descriptor itself");
        }
    }
}
