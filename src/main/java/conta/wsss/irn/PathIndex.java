package conta.wsss.irn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * IRNet's neighbour directions on the stride-4 grid (misc/indexing.py {@code PathIndex}): every offset (dy, dx) with
 * dy^2 + dx^2 < radius^2 in the half-plane dy > 0 or (dy = 0, dx > 0), so that each unordered pixel pair is counted
 * once (radius 5: 34 directions, i.e. 68 neighbours + self; radius 10 for training pairs). For each direction, the
 * path is the grid cells of the direction's bounding box whose distance to the centre-to-neighbour line is below 1,
 * both ends included; affinity(i, j) = 1 - max boundary over the path.
 *
 * <p>Directions are ordered as IRNet orders them (grouped by path length, then in search order), so the affinity
 * channels line up with IRNet's; each path starts at the destination (IRNet sorts by decreasing |dy| + |dx|).
 */
public final class PathIndex {
    private final int radius;
    private final int[] dy, dx;
    private final int[][] pathY, pathX;

    public PathIndex(int radius) {
        if (radius < 2) throw new IllegalArgumentException("path radius must be >= 2, got " + radius);
        this.radius = radius;
        List<int[]> dirs = new ArrayList<>();
        for (int x = 1; x < radius; x++) dirs.add(new int[]{0, x});
        for (int y = 1; y < radius; y++)
            for (int x = -radius + 1; x < radius; x++)
                if (x * x + y * y < radius * radius) dirs.add(new int[]{y, x});
        List<int[][]> paths = new ArrayList<>();
        for (int[] d : dirs) paths.add(path(d[0], d[1]));
        // stable sort by path length, as IRNet's bucketing by length keeps search order inside a bucket
        Integer[] order = new Integer[dirs.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt(i -> paths.get(i).length));
        int n = order.length;
        dy = new int[n];
        dx = new int[n];
        pathY = new int[n][];
        pathX = new int[n][];
        for (int k = 0; k < n; k++) {
            int[][] p = paths.get(order[k]);
            dy[k] = dirs.get(order[k])[0];
            dx[k] = dirs.get(order[k])[1];
            pathY[k] = new int[p.length];
            pathX[k] = new int[p.length];
            for (int c = 0; c < p.length; c++) {
                pathY[k][c] = p[c][0];
                pathX[k][c] = p[c][1];
            }
        }
    }

    /** Cells (y, x) of the box spanned by (0,0) and (ty, tx) within distance < 1 of the line, farthest first. */
    private static int[][] path(int ty, int tx) {
        double lenSq = ty * ty + tx * tx;
        List<int[]> cells = new ArrayList<>();
        for (int y = Math.min(0, ty); y <= Math.max(0, ty); y++)
            for (int x = Math.min(0, tx); x <= Math.max(0, tx); x++) {
                double cross = ty * x - tx * y;
                if (cross * cross / lenSq < 1) cells.add(new int[]{y, x});
            }
        cells.sort(Comparator.comparingInt(c -> -Math.abs(c[0]) - Math.abs(c[1]))); // stable, like Python's sort
        return cells.toArray(new int[0][]);
    }

    public int radius() { return radius; }

    /** The directions and paths as the WSSS ops take them ({@link conta.tensor.WsssOps#randomWalk}). */
    public conta.tensor.WalkPaths paths() {
        int[][] py = new int[pathY.length][], px = new int[pathX.length][];
        for (int d = 0; d < py.length; d++) { py[d] = pathY[d].clone(); px[d] = pathX[d].clone(); }
        return new conta.tensor.WalkPaths(radiusFloor(), dy.clone(), dx.clone(), py, px);
    }

    /** IRNet's radius_floor = ceil(radius) - 1: the margin that keeps every destination of a source inside the grid. */
    public int radiusFloor() { return radius - 1; }

    public int directions() { return dy.length; }

    public int dy(int d) { return dy[d]; }

    public int dx(int d) { return dx[d]; }

    /** Path cells of direction d as offsets from the source, destination first, source last. */
    public int[] pathY(int d) { return pathY[d].clone(); }

    public int[] pathX(int d) { return pathX[d].clone(); }

    public int pathLength(int d) { return pathY[d].length; }

    // ---- IRNet's training pair layout on an h x w grid (get_path_indices) ----

    /** Rows of the source region: sources are rows [0, h - rf) and columns [rf, w - rf), rf = radiusFloor(). */
    public int sourceRows(int h) { return checkGrid(h - radiusFloor(), "height", h); }

    public int sourceCols(int w) { return checkGrid(w - 2 * radiusFloor(), "width", w); }

    /** Number of source pixels P; the pairs are (source p, source p + direction d) for all d and p. */
    public int sources(int h, int w) { return sourceRows(h) * sourceCols(w); }

    /** Flat grid index (y * w + x) of source p. */
    public int source(int p, int h, int w) {
        int cols = sourceCols(w);
        return (p / cols) * w + radiusFloor() + p % cols;
    }

    private int checkGrid(int n, String what, int size) {
        if (n <= 0)
            throw new IllegalArgumentException("grid " + what + " " + size + " too small for path radius " + radius
                    + " (needs more than " + (what.equals("width") ? 2 * radiusFloor() : radiusFloor()) + ")");
        return n;
    }
}
