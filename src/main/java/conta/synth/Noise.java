package conta.synth;

/** Seeded 2-D value noise and fractal sums of it: cheap, deterministic textures without external assets. */
final class Noise {
    private final long seed;

    Noise(long seed) { this.seed = seed; }

    private double lattice(int x, int y) {
        long h = seed ^ (x * 0x9E3779B97F4A7C15L) ^ (y * 0xC2B2AE3D27D4EB4FL);
        h = (h ^ (h >>> 31)) * 0xBF58476D1CE4E5B9L;
        h = (h ^ (h >>> 29)) * 0x94D049BB133111EBL;
        h ^= h >>> 32;
        return (h & 0xFFFFFF) / (double) 0x1000000;
    }

    /** Smooth noise in [0,1) with unit lattice spacing. */
    double value(double x, double y) {
        int xi = (int) Math.floor(x), yi = (int) Math.floor(y);
        double fx = x - xi, fy = y - yi;
        fx = fx * fx * (3 - 2 * fx);
        fy = fy * fy * (3 - 2 * fy);
        double a = lattice(xi, yi), b = lattice(xi + 1, yi), c = lattice(xi, yi + 1), d = lattice(xi + 1, yi + 1);
        return a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy;
    }

    /** Fractal sum of 3 octaves at base frequency f, in [0,1). */
    double fbm(double x, double y, double f) {
        return (value(x * f, y * f) * 4 + value(x * f * 2.03 + 17.1, y * f * 2.03 + 5.3) * 2 + value(x * f * 4.1 + 3.7, y * f * 4.1 + 41.9)) / 7;
    }
}
