package conta.eval;

/**
 * Paired comparison of two methods over the same seeds: the mean of the per-seed differences, their sample standard
 * deviation, a 95% Student-t interval and a two-sided exact sign test (ties dropped), as issue 17's power analysis
 * asks. Student's t quantile comes from its CDF (regularised incomplete beta by continued fraction) by bisection.
 */
public record PairedStats(int n, double mean, double sd, double lo95, double hi95, int positive, int negative, double signP) {

    /** Differences a[i] - b[i] over the pairs where both are finite. */
    public static PairedStats of(double[] a, double[] b) {
        if (a.length != b.length) throw new IllegalArgumentException(a.length + " vs " + b.length + " values");
        double[] d = new double[a.length];
        int n = 0;
        for (int i = 0; i < a.length; i++) if (Double.isFinite(a[i]) && Double.isFinite(b[i])) d[n++] = a[i] - b[i];
        double mean = 0;
        for (int i = 0; i < n; i++) mean += d[i];
        mean = n == 0 ? Double.NaN : mean / n;
        double ss = 0;
        int pos = 0, neg = 0;
        for (int i = 0; i < n; i++) {
            ss += (d[i] - mean) * (d[i] - mean);
            if (d[i] > 0) pos++;
            else if (d[i] < 0) neg++;
        }
        double sd = n > 1 ? Math.sqrt(ss / (n - 1)) : Double.NaN;
        double half = n > 1 ? tQuantile(0.975, n - 1) * sd / Math.sqrt(n) : Double.NaN;
        return new PairedStats(n, mean, sd, mean - half, mean + half, pos, neg, signTest(pos, neg));
    }

    /** Two-sided exact sign test: P(a split at least as uneven as pos:neg | p = 1/2), capped at 1. */
    public static double signTest(int pos, int neg) {
        int m = pos + neg, k = Math.min(pos, neg);
        if (m == 0) return 1;
        double tail = 0;
        for (int i = 0; i <= k; i++) tail += Math.exp(logChoose(m, i) - m * Math.log(2));
        return Math.min(1, 2 * tail);
    }

    /** Seeds needed to detect a paired effect delta with two-sided alpha 0.05 and power 0.8 given the paired SD. */
    public static int seedsFor(double delta, double sd) {
        for (int n = 2; n < 100000; n++)
            if (n >= Math.pow((tQuantile(0.975, n - 1) + tQuantile(0.8, n - 1)) * sd / delta, 2)) return n;
        return Integer.MAX_VALUE;
    }

    /**
     * One-sided upper confidence bound (level conf, e.g. 0.8) of a normal population's SD from a sample SD over n values:
     * sd * sqrt((n - 1) / chi2_{1-conf}(n - 1)). Few seeds estimate the SD poorly; the seeds a test needs are planned on this.
     */
    public static double sdUpper(double sd, int n, double conf) {
        if (n < 2) return Double.NaN;
        return sd * Math.sqrt((n - 1) / chiSquareQuantile(1 - conf, n - 1));
    }

    /** Lower-tail quantile of the chi-square distribution with df degrees of freedom, p in (0, 1). */
    public static double chiSquareQuantile(double p, int df) {
        if (!(p > 0 && p < 1) || df < 1) throw new IllegalArgumentException("p " + p + ", df " + df);
        double lo = 0, hi = df + 1;
        while (lowerGamma(df / 2.0, hi / 2) < p) hi *= 2;
        for (int i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
            double mid = (lo + hi) / 2;
            if (lowerGamma(df / 2.0, mid / 2) < p) lo = mid;
            else hi = mid;
        }
        return (lo + hi) / 2;
    }

    /** Regularised lower incomplete gamma P(a, x): its series below x = a + 1, else 1 - the continued fraction (Lentz). */
    static double lowerGamma(double a, double x) {
        if (x <= 0) return 0;
        double front = Math.exp(-x + a * Math.log(x) - logGamma(a));
        if (x < a + 1) {
            double term = 1 / a, sum = term;
            for (int k = 1; k < 10000 && Math.abs(term) > 1e-16 * Math.abs(sum); k++) {
                term *= x / (a + k);
                sum += term;
            }
            return front * sum;
        }
        double tiny = 1e-300, b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
        for (int i = 1; i < 10000; i++) {
            double an = -i * (i - a);
            b += 2;
            d = an * d + b; if (Math.abs(d) < tiny) d = tiny;
            c = b + an / c; if (Math.abs(c) < tiny) c = tiny;
            d = 1 / d;
            double del = d * c;
            h *= del;
            if (Math.abs(del - 1) < 1e-15) break;
        }
        return 1 - front * h;
    }

    /** Student's t quantile for probability p in (0.5, 1). */
    public static double tQuantile(double p, int df) {
        if (!(p > 0.5 && p < 1) || df < 1) throw new IllegalArgumentException("p " + p + ", df " + df);
        double lo = 0, hi = 1;
        while (tCdf(hi, df) < p) hi *= 2;
        for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
            double mid = (lo + hi) / 2;
            if (tCdf(mid, df) < p) lo = mid;
            else hi = mid;
        }
        return (lo + hi) / 2;
    }

    /** Student's t CDF at t >= 0: 1 - I_{v/(v+t^2)}(v/2, 1/2) / 2. */
    static double tCdf(double t, int df) {
        double x = df / (df + t * t);
        return 1 - 0.5 * incompleteBeta(x, df / 2.0, 0.5);
    }

    /** Regularised incomplete beta I_x(a, b) (Numerical Recipes' continued fraction, Lentz's method). */
    static double incompleteBeta(double x, double a, double b) {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        double front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
        if (x > (a + 1) / (a + b + 2)) return 1 - front * betaFraction(1 - x, b, a) / b;
        return front * betaFraction(x, a, b) / a;
    }

    private static double betaFraction(double x, double a, double b) {
        double tiny = 1e-300, c = 1, d = 1 - (a + b) * x / (a + 1);
        if (Math.abs(d) < tiny) d = tiny;
        d = 1 / d;
        double h = d;
        for (int m = 1; m <= 10000; m++) {
            int m2 = 2 * m;
            double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
            d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
            c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
            d = 1 / d;
            h *= d * c;
            aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
            d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
            c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
            d = 1 / d;
            double del = d * c;
            h *= del;
            if (Math.abs(del - 1) < 1e-15) break;
        }
        return h;
    }

    /** log Gamma by Lanczos (g = 7, n = 9), accurate to ~1e-15 relative for x > 0. */
    static double logGamma(double x) {
        double[] c = {0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7};
        if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
        x -= 1;
        double s = c[0];
        for (int i = 1; i < 9; i++) s += c[i] / (x + i);
        double t = x + 7.5;
        return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(s);
    }

    private static double logChoose(int n, int k) { return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1); }
}
