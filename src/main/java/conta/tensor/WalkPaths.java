package conta.tensor;

/**
 * The random walk's neighbourhood (IRNet's PathIndex, built by conta.wsss.irn.PathIndex): direction d joins pixel (y, x)
 * to (y + dy[d], x + dx[d]) with dy >= 0, and its affinity reads the boundary at (y + pathY[d][i], x + pathX[d][i]).
 * pad is the largest |dy|, |dx| (radius - 1).
 */
public record WalkPaths(int pad, int[] dy, int[] dx, int[][] pathY, int[][] pathX) {
    public WalkPaths {
        if (dy.length != dx.length || dy.length != pathY.length || dy.length != pathX.length)
            throw new IllegalArgumentException("walk paths: " + dy.length + " dy, " + dx.length + " dx, " + pathY.length + " paths");
        for (int d = 0; d < dy.length; d++)
            if (dy[d] < 0 || dy[d] > pad || Math.abs(dx[d]) > pad || pathY[d].length != pathX[d].length || pathY[d].length == 0)
                throw new IllegalArgumentException("walk paths: direction " + d + " (" + dy[d] + ", " + dx[d] + ") outside pad " + pad
                        + " or with a bad path");
    }

    public int directions() { return dy.length; }
}
