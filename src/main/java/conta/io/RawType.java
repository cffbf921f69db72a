package conta.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Element types found in weight files, with their little-endian decoding to float. */
enum RawType {
    F32(4), F64(8), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

    final int size;

    RawType(int size) { this.size = size; }

    /** Decodes {@code n} elements starting at byte {@code pos} of {@code b} (read as little-endian). */
    float[] decode(ByteBuffer b, int pos, int n) {
        ByteBuffer bb = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[n];
        if (this == F32) {
            bb.position(pos);
            bb.asFloatBuffer().get(out, 0, n);
            return out;
        }
        for (int k = 0; k < n; k++) out[k] = get(bb, pos + (long) k * size);
        return out;
    }

    /** One element at absolute byte position {@code p} of a little-endian buffer. */
    float get(ByteBuffer bb, long p) {
        int i = Math.toIntExact(p);
        return switch (this) {
            case F32 -> bb.getFloat(i);
            case F64 -> (float) bb.getDouble(i);
            case F16 -> Float.float16ToFloat(bb.getShort(i));
            case BF16 -> Float.intBitsToFloat((bb.getShort(i) & 0xffff) << 16);
            case I64 -> (float) bb.getLong(i);
            case I32 -> (float) bb.getInt(i);
            case I16 -> bb.getShort(i);
            case I8 -> bb.get(i);
            case U8 -> bb.get(i) & 0xff;
            case BOOL -> bb.get(i) != 0 ? 1f : 0f;
        };
    }

    /** Product of a shape, refusing negative sizes and more elements than a Java array holds. */
    static int numel(int[] shape, String what) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException(what + ": negative dimension in shape " + java.util.Arrays.toString(shape));
            n *= d;
            if (n > Integer.MAX_VALUE - 8)
                throw new IllegalArgumentException(what + ": shape " + java.util.Arrays.toString(shape) + " has too many elements for one array");
        }
        return (int) n;
    }
}
