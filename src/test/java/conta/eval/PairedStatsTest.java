package conta.eval;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** Against published tables (Student's t quantiles), exact binomial sums and a hand-worked paired example. */
class PairedStatsTest {
    @Test
    void tQuantilesMatchTheTables() {
        assertEquals(12.7062, PairedStats.tQuantile(0.975, 1), 1e-4);
        assertEquals(2.7764, PairedStats.tQuantile(0.975, 4), 1e-4);
        assertEquals(2.2622, PairedStats.tQuantile(0.975, 9), 1e-4);
        assertEquals(2.0452, PairedStats.tQuantile(0.975, 29), 1e-4);
        assertEquals(0.9410, PairedStats.tQuantile(0.8, 4), 1e-4);
        assertEquals(1.9600, PairedStats.tQuantile(0.975, 100000), 1e-3);
    }

    @Test
    void signTestIsTheExactBinomialTail() {
        assertEquals(2.0 / 64, PairedStats.signTest(6, 0), 1e-12); // all six positive
        assertEquals(2 * (1 + 10 + 45) / 1024.0, PairedStats.signTest(8, 2), 1e-12);
        assertEquals(1.0, PairedStats.signTest(3, 3), 1e-12);
        assertEquals(1.0, PairedStats.signTest(0, 0));
    }

    /** d = 1, 2, 3, 4, 5 (one NaN pair dropped): mean 3, sd sqrt(2.5), interval 3 ± 2.7764 * sqrt(2.5/5). */
    @Test
    void pairedDifferencesByHand() {
        PairedStats s = PairedStats.of(new double[]{11, 12, 13, 14, 15, Double.NaN}, new double[]{10, 10, 10, 10, 10, 10});
        assertEquals(5, s.n());
        assertEquals(3, s.mean(), 1e-12);
        assertEquals(Math.sqrt(2.5), s.sd(), 1e-12);
        assertEquals(3 - 2.776445 * Math.sqrt(0.5), s.lo95(), 1e-5);
        assertEquals(3 + 2.776445 * Math.sqrt(0.5), s.hi95(), 1e-5);
        assertEquals(5, s.positive());
        assertEquals(2.0 / 32, s.signP(), 1e-12);
    }

    /** Seeds for a +1.0 effect at power 0.8 (the benchmark plan's table; same iteration as a t-based power formula). */
    @Test
    void seedsForAOnePointEffect() {
        assertEquals(5, PairedStats.seedsFor(1.0, 0.5));
        assertEquals(10, PairedStats.seedsFor(1.0, 1.0));
        assertEquals(20, PairedStats.seedsFor(1.0, 1.5));
        assertEquals(34, PairedStats.seedsFor(1.0, 2.0));
        assertEquals(73, PairedStats.seedsFor(1.0, 3.0));
    }

    /** Chi-square lower-tail quantiles from the tables; df = 2 has the closed form -2 ln(1 - p). */
    @Test
    void chiSquareQuantilesMatchTheTables() {
        assertEquals(-2 * Math.log(0.8), PairedStats.chiSquareQuantile(0.2, 2), 1e-10);
        assertEquals(0.0642, PairedStats.chiSquareQuantile(0.2, 1), 1e-4);
        assertEquals(2.3425, PairedStats.chiSquareQuantile(0.2, 5), 1e-4);
        assertEquals(3.9403, PairedStats.chiSquareQuantile(0.05, 10), 1e-4);
        assertEquals(18.3070, PairedStats.chiSquareQuantile(0.95, 10), 1e-4);
        assertEquals(124.342, PairedStats.chiSquareQuantile(0.95, 100), 1e-3);
    }

    /** Two seeds with SD 1: the 80% upper bound is 1 / sqrt(chi2_0.2(1)) = 3.947 (sd * sqrt(1 / 0.06418)). */
    @Test
    void sdUpperBoundFromFewSeeds() {
        assertEquals(Math.sqrt(1 / 0.0641848), PairedStats.sdUpper(1.0, 2, 0.8), 1e-4);
        assertEquals(0.5 * Math.sqrt(4 / 1.6488), PairedStats.sdUpper(0.5, 5, 0.8), 1e-3);
        assertTrue(Double.isNaN(PairedStats.sdUpper(1.0, 1, 0.8)));
    }
}
