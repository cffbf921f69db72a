package conta.wsss.irn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PathIndexTest {
    @Test
    void directionsAreTheHalfDiscCountedOncePerPair() {
        for (int r : new int[]{5, 10}) {
            PathIndex pi = new PathIndex(r);
            Set<String> got = new HashSet<>();
            for (int d = 0; d < pi.directions(); d++) got.add(pi.dy(d) + "," + pi.dx(d));
            Set<String> want = new HashSet<>();
            for (int y = -2 * r; y <= 2 * r; y++)
                for (int x = -2 * r; x <= 2 * r; x++)
                    if ((y > 0 || (y == 0 && x > 0)) && x * x + y * y < r * r) want.add(y + "," + x);
            assertEquals(want, got, "radius " + r);
            assertEquals(got.size(), pi.directions(), "no duplicates");
        }
        assertEquals(34, new PathIndex(5).directions()); // 68 neighbours + self
        assertEquals(152, new PathIndex(10).directions());
    }

    @Test
    void orderFollowsIrnetPathLengthBuckets() {
        PathIndex pi = new PathIndex(5);
        // length 2: (0,1),(1,0); length 3: (0,2),(2,0); length 4: (0,3),(1,-1),(1,1),(3,0) (hand-worked)
        int[][] first = {{0, 1}, {1, 0}, {0, 2}, {2, 0}, {0, 3}, {1, -1}, {1, 1}, {3, 0}};
        for (int d = 0; d < first.length; d++) {
            assertEquals(first[d][0], pi.dy(d), "dy of direction " + d);
            assertEquals(first[d][1], pi.dx(d), "dx of direction " + d);
        }
        for (int d = 1; d < pi.directions(); d++) assertTrue(pi.pathLength(d) >= pi.pathLength(d - 1));
    }

    @Test
    void pathsMatchHandWorkedCells() {
        PathIndex pi = new PathIndex(5);
        // (2,2): the 3x3 box minus the two corners (0,2), (2,0) whose distance to the diagonal is sqrt(2) >= 1
        assertEquals(Set.of("0,0", "0,1", "1,0", "1,1", "1,2", "2,1", "2,2"), cells(pi, 2, 2));
        // (4,2): |4x - 2y| <= 4 in the 5x3 box: x=0 -> y 0..2, x=1 -> y 0..4, x=2 -> y 2..4
        assertEquals(11, cells(pi, 4, 2).size());
        assertTrue(cells(pi, 4, 2).containsAll(Set.of("0,0", "2,0", "0,1", "4,1", "2,2", "4,2")));
        assertEquals(Set.of("0,0", "0,1", "0,2", "0,3"), cells(pi, 0, 3));
        assertEquals(Set.of("0,0", "0,-1", "0,-2", "1,0", "1,-1", "1,-2"), cells(pi, 1, -2));
        int d = find(pi, 4, 2);
        assertEquals(4, pi.pathY(d)[0], "destination first");
        assertEquals(2, pi.pathX(d)[0]);
        assertEquals(0, pi.pathY(d)[pi.pathLength(d) - 1], "source last");
        assertEquals(0, pi.pathX(d)[pi.pathLength(d) - 1]);
    }

    @Test
    void sourceRegionKeepsAllDestinationsInside() {
        PathIndex pi = new PathIndex(3);
        int h = 6, w = 10;
        assertEquals(4 * 6, pi.sources(h, w)); // rows 0..3, columns 2..7
        assertEquals(2, pi.source(0, h, w));
        assertEquals(12, pi.source(6, h, w));
        for (int p = 0; p < pi.sources(h, w); p++)
            for (int d = 0; d < pi.directions(); d++) {
                int s = pi.source(p, h, w), y = s / w + pi.dy(d), x = s % w + pi.dx(d);
                assertTrue(y >= 0 && y < h && x >= 0 && x < w);
            }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pi.sources(2, 10));
        assertTrue(e.getMessage().contains("too small"), e.getMessage());
        assertArrayEquals(new int[]{0, 0}, new int[]{pi.pathY(0)[1], pi.pathX(0)[1]}); // (0,1): dest, then source
    }

    static Set<String> cells(PathIndex pi, int dy, int dx) {
        int d = find(pi, dy, dx);
        Set<String> s = new HashSet<>();
        for (int c = 0; c < pi.pathLength(d); c++) s.add(pi.pathY(d)[c] + "," + pi.pathX(d)[c]);
        assertEquals(pi.pathLength(d), s.size());
        return s;
    }

    static int find(PathIndex pi, int dy, int dx) {
        for (int d = 0; d < pi.directions(); d++) if (pi.dy(d) == dy && pi.dx(d) == dx) return d;
        throw new AssertionError("no direction " + dy + "," + dx);
    }
}
