package conta.io;

import java.util.Arrays;

/** A named-free float32 array with a shape, held on the Java heap: the exchange type of every file reader/writer. */
public record HostArray(int[] shape, float[] data) {
    public HostArray {
        long n = 1;
        for (int d : shape) n *= d;
        if (n != data.length)
            throw new IllegalArgumentException(data.length + " values for shape " + Arrays.toString(shape));
    }

    public long numel() { return data.length; }

    public String shapeString() { return Arrays.toString(shape); }
}
