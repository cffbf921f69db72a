package conta.tensor;

/** One convolution case of the conv tests: batch n, c input channels of h x w, o outputs, spec s, with or without bias. */
public record ConvGeometry(String name, int n, int c, int h, int w, int o, ConvSpec s, boolean bias) {
    /** Output height by the reference formula (not ConvSpec's own). */
    public int oh() { return RefOps.convOut(h, s.kh(), s.strideH(), s.padH(), s.dilH()); }

    public int ow() { return RefOps.convOut(w, s.kw(), s.strideW(), s.padW(), s.dilW()); }

    @Override public String toString() { return name; }
}
