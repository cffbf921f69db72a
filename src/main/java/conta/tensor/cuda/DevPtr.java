package conta.tensor.cuda;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * A JavaCPP pointer at a raw device address, position 0. Device addresses are plain longs in conta; these peers own no
 * memory and register no deallocator, so making one per call costs one small Java object and nothing native.
 */
final class DevPtr extends Pointer {
    DevPtr(long address) { this.address = address; }

    static Pointer of(long address) { return address == 0 ? null : new DevPtr(address); }

    static FloatPointer floats(long address) { return new FloatPointer(new DevPtr(address)); }
}
