package conta.tensor;

/** Element type of a tensor. Only F32 is implemented; BF16 is reserved so that storage code carries a type from day one. */
public enum DType {
    F32(4), BF16(2);

    public final int bytes;

    DType(int bytes) { this.bytes = bytes; }
}
