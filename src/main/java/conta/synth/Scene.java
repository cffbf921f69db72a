package conta.synth;

import conta.image.Mask;
import conta.image.RgbImage;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One synthetic scene built to show CONTA's three context problems:
 * <ul>
 *   <li>object ambiguity: a horse carries a touching, overlapping rider with probability {@code bias}
 *       (riders never appear on their own next to a horse, so P(rider | horse) = bias);</li>
 *   <li>incomplete background: a boat floats on water (unlabelled background) and a tram runs on rails with
 *       probability {@code bias}; water or rails without their object appear in 12% of the other images;</li>
 *   <li>incomplete foreground: a sheep has a constant black head, and with probability {@code bias} its body
 *       takes the look of the ground it stands on (else plain wool).</li>
 * </ul>
 * Birds and cars are context-free distractors. Everything is drawn from seeded noise, shapes and palettes.
 */
final class Scene {
    static final List<String> CLASSES = List.of("background", "rider", "horse", "boat", "tram", "sheep", "bird", "car");
    static final int RIDER = 1, HORSE = 2, BOAT = 3, TRAM = 4, SHEEP = 5, BIRD = 6, CAR = 7;
    private static final double[] WEIGHT = {0, 0.12, 0.18, 0.16, 0.14, 0.16, 0.12, 0.12};

    /** Rendered image, mask, and generation facts (contexts present, couplings that happened). */
    record Rendered(RgbImage image, Mask mask, int[] labels, List<String> contexts, List<String> couplings) { }

    private final SplittableRandom r;
    private final Noise noise;
    private final Canvas c;
    private final int size;
    private Canvas.Tex ground;

    private Scene(long seed, int size) {
        this.r = new SplittableRandom(seed);
        this.noise = new Noise(r.nextLong());
        this.size = size;
        this.c = new Canvas(size, size);
    }

    /** The three context problems' strengths: P(rider on the horse | horse), P(context | boat or tram), P(body like the ground | sheep). */
    record Strength(double ambiguity, double background, double foreground) {
        static Strength all(double bias) { return new Strength(bias, bias, bias); }
    }

    static Rendered render(long seed, int size, double bias) { return render(seed, size, Strength.all(bias)); }

    static Rendered render(long seed, int size, Strength strength) { return new Scene(seed, size).draw(strength); }

    private double u(double a, double b) { return a + (b - a) * r.nextDouble(); }

    private Rendered draw(Strength bias) {
        double S = size, horizon = S * u(0.28, 0.45);
        // which objects: 1-3 distinct classes; a horse excludes a standalone rider and vice versa
        int n = 1 + (r.nextDouble() < 0.45 ? 0 : r.nextDouble() < 0.65 ? 1 : 2);
        double[] w = WEIGHT.clone();
        List<Integer> objs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            double tot = 0;
            for (double x : w) tot += x;
            double p = r.nextDouble() * tot;
            int k = 1;
            while (k < 7 && (p -= w[k]) > 0) k++;
            objs.add(k);
            w[k] = 0;
            if (k == HORSE) w[RIDER] = 0;
            if (k == RIDER) w[HORSE] = 0;
        }
        boolean riderOn = objs.contains(HORSE) && r.nextDouble() < bias.ambiguity();
        boolean boatOnWater = objs.contains(BOAT) && r.nextDouble() < bias.background();
        boolean tramOnRails = objs.contains(TRAM) && r.nextDouble() < bias.background();
        boolean sheepFollows = objs.contains(SHEEP) && r.nextDouble() < bias.foreground();
        boolean water = boatOnWater || (!objs.contains(BOAT) && r.nextDouble() < 0.12);
        boolean rails = tramOnRails || (!objs.contains(TRAM) && r.nextDouble() < 0.12);

        sky(horizon);
        ground = groundTex();
        c.region((x, y) -> y >= horizon + 1.5 * Math.sin(x * 0.09 + 3) , 0, ground);
        for (int i = r.nextInt(4); i > 0; i--) scenery(horizon);

        // slots left to right, shuffled; each object gets a centre x and a base y on the ground
        int m = objs.size();
        List<Integer> slot = new ArrayList<>();
        for (int i = 0; i < m; i++) slot.add(i);
        for (int i = m - 1; i > 0; i--) java.util.Collections.swap(slot, i, r.nextInt(i + 1));
        double[] cx = new double[m], base = new double[m], sz = new double[m];
        for (int i = 0; i < m; i++) {
            cx[i] = S * (slot.get(i) + u(0.35, 0.65)) / m;
            base[i] = horizon + (S - horizon) * u(0.45, 0.97);
            int k = objs.get(i);
            sz[i] = S * switch (k) {
                case TRAM -> u(0.55, 0.75);
                case HORSE, BOAT, CAR -> u(0.6, 0.85);
                case RIDER -> u(0.6, 0.8);
                case SHEEP -> u(0.65, 0.9);
                default -> u(0.45, 0.65);
            } / Math.sqrt(m);
            if (k == BIRD && r.nextDouble() < 0.7) base[i] = horizon * u(0.35, 0.85);
        }
        List<String> contexts = new ArrayList<>(), couplings = new ArrayList<>();
        if (water) {
            int bi = objs.indexOf(BOAT);
            double wx = boatOnWater ? cx[bi] : u(0.2, 0.8) * S, wb = boatOnWater ? base[bi] : horizon + (S - horizon) * u(0.4, 0.9);
            double hw = boatOnWater ? sz[bi] * u(0.9, 1.6) : S * u(0.25, 0.45), top = wb - (boatOnWater ? sz[bi] * 0.35 : S * 0.12);
            double bot = wb + S * u(0.06, 0.2);
            lake(wx, hw, Math.max(horizon + 2, top), bot);
            contexts.add("water");
            if (boatOnWater) couplings.add("boat-on-water");
        }
        if (rails) {
            int ti = objs.indexOf(TRAM);
            double rb = tramOnRails ? base[ti] : horizon + (S - horizon) * u(0.4, 0.9);
            railway(rb);
            contexts.add("rails");
            if (tramOnRails) couplings.add("tram-on-rails");
        }
        // far objects first so near ones occlude them
        Integer[] order = new Integer[m];
        for (int i = 0; i < m; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> Double.compare(base[a], base[b]));
        for (int i : order) {
            boolean left = r.nextBoolean();
            switch (objs.get(i)) {
                case RIDER -> person(cx[i], base[i], sz[i]);
                case HORSE -> {
                    horse(cx[i], base[i], sz[i], left);
                    if (riderOn) { rider(cx[i], base[i], sz[i], left); couplings.add("rider-on-horse"); }
                }
                case BOAT -> boat(cx[i], base[i], sz[i]);
                case TRAM -> tram(cx[i], base[i], sz[i]);
                case SHEEP -> {
                    sheep(cx[i], base[i], sz[i], left, sheepFollows);
                    if (sheepFollows) couplings.add("sheep-body-follows-ground");
                }
                case BIRD -> bird(cx[i], base[i], sz[i], left);
                default -> car(cx[i], base[i], sz[i], left);
            }
        }
        Mask mask = c.mask(true);
        // image-level labels are what is visible in the mask (an object can be hidden behind another one)
        int[] labels = mask.classesPresent(CLASSES.size() - 1);
        return new Rendered(c.image(), mask, labels, contexts, couplings);
    }

    // ---- textures ----
    private Canvas.Tex noisy(float[] rgb, double amp, double freq) {
        double ox = u(0, 1000), oy = u(0, 1000);
        return (x, y, o) -> {
            double f = 1 + amp * (noise.fbm(x + ox, y + oy, freq) - 0.5) * 2;
            for (int k = 0; k < 3; k++) o[k] = (float) (rgb[k] * f);
        };
    }

    private float[] jitter(double r0, double g0, double b0, double amt) {
        return new float[]{(float) (r0 * u(1 - amt, 1 + amt)), (float) (g0 * u(1 - amt, 1 + amt)), (float) (b0 * u(1 - amt, 1 + amt))};
    }

    private void sky(double horizon) {
        float[] top = jitter(70, 130, 210, 0.15), low = jitter(175, 205, 235, 0.08);
        double ox = u(0, 500), cloud = u(0.45, 0.7);
        c.region((x, y) -> true, 0, (x, y, o) -> {
            double t = Math.min(1, y / Math.max(1, horizon));
            double cl = noise.fbm(x + ox, y * 2.2, 0.05);
            double wgt = Math.max(0, (cl - cloud) * 3.5);
            for (int k = 0; k < 3; k++) {
                double v = top[k] * (1 - t) + low[k] * t;
                o[k] = (float) (v * (1 - Math.min(1, wgt)) + 245 * Math.min(1, wgt));
            }
        });
    }

    /** Grass, soil, sand, asphalt or snow, with texture and a light far-to-near gradient. */
    private Canvas.Tex groundTex() {
        int kind = r.nextInt(5);
        float[] col = switch (kind) {
            case 0 -> jitter(70, 125, 45, 0.15);
            case 1 -> jitter(110, 80, 55, 0.15);
            case 2 -> jitter(205, 180, 130, 0.1);
            case 3 -> jitter(95, 95, 98, 0.1);
            default -> jitter(228, 230, 236, 0.04);
        };
        double amp = kind == 4 ? 0.06 : 0.3, freq = u(0.08, 0.2), ox = u(0, 500);
        boolean blades = kind == 0;
        return (x, y, o) -> {
            double f = 1 + amp * (noise.fbm(x + ox, y + ox, freq) - 0.5) * 2;
            if (blades) f *= 0.85 + 0.3 * noise.value(x * 1.3 + ox, y * 0.25);
            else f *= 0.92 + 0.16 * noise.value(x * 2.1, y * 2.1 + ox);
            f *= 0.85 + 0.3 * y / size;
            for (int k = 0; k < 3; k++) o[k] = (float) (col[k] * f);
        };
    }

    /** Bushes, rocks and trees: unlabelled background clutter. */
    private void scenery(double horizon) {
        double x = u(0, size), y = horizon + u(-0.05, 0.5) * (size - horizon), s = size * u(0.05, 0.14);
        switch (r.nextInt(3)) {
            case 0 -> { // bush
                Canvas.Tex t = noisy(jitter(45, 85, 35, 0.2), 0.45, 0.35);
                for (int i = 0; i < 4; i++) c.fill(Canvas.ellipse(x + u(-s, s), y - u(0, s), s * u(0.5, 0.9), s * u(0.4, 0.7), 0), -1, t);
            }
            case 1 -> c.fill(Canvas.ellipse(x, y, s, s * u(0.45, 0.7), u(-0.3, 0.3)), -1, noisy(jitter(125, 120, 115, 0.12), 0.35, 0.25));
            default -> { // tree
                c.fill(Canvas.bar(x, y, x, y - s * 2.2, s * 0.35), -1, noisy(jitter(80, 55, 35, 0.15), 0.3, 0.4));
                c.fill(Canvas.ellipse(x, y - s * 2.6, s * 1.1, s * 0.9, 0), -1, noisy(jitter(40, 95, 40, 0.2), 0.5, 0.3));
            }
        }
    }

    private void lake(double cx, double halfW, double top, double bot) {
        float[] col = jitter(40, 90, 150, 0.15);
        double ph = u(0, 6.3), freq = u(0.6, 1.1), ox = u(0, 500);
        double cy = (top + bot) / 2, ry = (bot - top) / 2;
        c.region((x, y) -> {
            double dx = (x - cx) / halfW, dy = (y - cy) / ry;
            return dx * dx + dy * dy <= 1 + 0.25 * (noise.value(x * 0.15 + ox, y * 0.15) - 0.5) || (bot > size - 1 && y > cy && Math.abs(x - cx) < halfW);
        }, 0, (x, y, o) -> {
            double wave = Math.sin(y * freq * 2.4 + ph + 2.5 * noise.value(x * 0.08 + ox, y * 0.3));
            double f = 0.85 + 0.15 * wave + 0.2 * (noise.fbm(x + ox, y * 3, 0.12) - 0.5);
            double glint = wave > 0.93 ? 60 : 0;
            for (int k = 0; k < 3; k++) o[k] = (float) (col[k] * f + glint);
        });
    }

    private void railway(double base) {
        double S = size, top = base - S * 0.05, bot = base + S * 0.035;
        c.fill(Canvas.rect(0, top, S, bot), 0, noisy(jitter(120, 110, 100, 0.1), 0.5, 0.8));
        float[] sleeper = jitter(85, 60, 40, 0.15);
        double gap = S * u(0.045, 0.07), off = u(0, gap);
        for (double x = -off; x < S; x += gap) c.fill(Canvas.rect(x, top + 1, x + gap * 0.45, bot - 1), 0, noisy(sleeper, 0.25, 0.5));
        float[] steel = jitter(175, 178, 185, 0.05);
        for (double y : new double[]{top + (bot - top) * 0.25, top + (bot - top) * 0.75})
            c.fill(Canvas.rect(0, y - 0.6, S, y + 0.6), 0, noisy(steel, 0.1, 0.5));
    }

    // ---- objects ----
    private float[] pick(double[][] palette, double amt) {
        double[] p = palette[r.nextInt(palette.length)];
        return jitter(p[0], p[1], p[2], amt);
    }

    private void horse(double cx, double base, double s, boolean left) {
        double d = left ? -1 : 1;
        float[] col = pick(new double[][]{{120, 72, 40}, {150, 82, 42}, {45, 38, 32}, {200, 195, 185}, {95, 58, 30}}, 0.1);
        Canvas.Tex t = noisy(col, 0.22, 0.25), dark = noisy(new float[]{col[0] * 0.6f, col[1] * 0.6f, col[2] * 0.6f}, 0.2, 0.3);
        for (double lx : new double[]{-0.3, -0.18, 0.18, 0.3})
            c.fill(Canvas.bar(cx + lx * s, base - 0.5 * s, cx + lx * s + u(-0.05, 0.05) * s, base, 0.07 * s), HORSE, lx < 0 ? dark : t);
        c.fill(Canvas.bar(cx - d * 0.42 * s, base - 0.62 * s, cx - d * 0.56 * s, base - 0.3 * s, 0.06 * s), HORSE, dark);
        c.fill(Canvas.ellipse(cx, base - 0.56 * s, 0.45 * s, 0.19 * s, 0), HORSE, t);
        c.fill(Canvas.bar(cx + d * 0.33 * s, base - 0.6 * s, cx + d * 0.52 * s, base - 0.95 * s, 0.15 * s), HORSE, t);
        c.fill(Canvas.ellipse(cx + d * 0.62 * s, base - 0.93 * s, 0.15 * s, 0.07 * s, d * 0.5), HORSE, t);
        c.fill(Canvas.bar(cx + d * 0.42 * s, base - 0.98 * s, cx + d * 0.3 * s, base - 0.62 * s, 0.04 * s), HORSE, dark); // mane
    }

    private float[] clothes() { return pick(new double[][]{{200, 40, 40}, {40, 70, 160}, {230, 200, 60}, {60, 140, 70}, {240, 240, 240}, {30, 30, 35}}, 0.12); }

    private float[] skin() { return pick(new double[][]{{230, 190, 160}, {190, 140, 100}, {120, 80, 55}}, 0.06); }

    /** A rider sitting on the horse drawn at the same place: legs across the horse's flank (touching, overlapping). */
    private void rider(double cx, double base, double s, boolean left) {
        double d = left ? -1 : 1, x = cx - d * 0.05 * s;
        Canvas.Tex shirt = noisy(clothes(), 0.15, 0.4), pants = noisy(clothes(), 0.15, 0.4), face = noisy(skin(), 0.05, 0.5);
        c.fill(Canvas.bar(x, base - 0.72 * s, x + d * 0.1 * s, base - 0.4 * s, 0.09 * s), RIDER, pants);
        c.fill(Canvas.bar(x, base - 0.7 * s, x + d * 0.03 * s, base - 1.08 * s, 0.16 * s), RIDER, shirt);
        c.fill(Canvas.bar(x + d * 0.02 * s, base - 1.0 * s, x + d * 0.28 * s, base - 0.82 * s, 0.05 * s), RIDER, shirt);
        c.fill(Canvas.ellipse(x + d * 0.03 * s, base - 1.18 * s, 0.075 * s, 0.09 * s, 0), RIDER, face);
    }

    private void person(double cx, double base, double s) {
        Canvas.Tex shirt = noisy(clothes(), 0.15, 0.4), pants = noisy(clothes(), 0.15, 0.4), face = noisy(skin(), 0.05, 0.5);
        double spread = u(0.02, 0.1) * s;
        c.fill(Canvas.bar(cx - 0.05 * s, base - 0.47 * s, cx - 0.05 * s - spread, base, 0.09 * s), RIDER, pants);
        c.fill(Canvas.bar(cx + 0.05 * s, base - 0.47 * s, cx + 0.05 * s + spread, base, 0.09 * s), RIDER, pants);
        c.fill(Canvas.bar(cx, base - 0.45 * s, cx, base - 0.85 * s, 0.2 * s), RIDER, shirt);
        double a = u(-0.2, 0.3) * s;
        c.fill(Canvas.bar(cx - 0.1 * s, base - 0.82 * s, cx - 0.16 * s, base - 0.5 * s + a, 0.06 * s), RIDER, shirt);
        c.fill(Canvas.bar(cx + 0.1 * s, base - 0.82 * s, cx + 0.16 * s, base - 0.5 * s - a, 0.06 * s), RIDER, shirt);
        c.fill(Canvas.ellipse(cx, base - 0.95 * s, 0.08 * s, 0.095 * s, 0), RIDER, face);
    }

    private void boat(double cx, double base, double s) {
        Canvas.Tex hull = noisy(pick(new double[][]{{235, 235, 230}, {180, 40, 35}, {30, 45, 90}, {130, 85, 45}}, 0.08), 0.2, 0.35);
        c.fill(Canvas.poly(cx - 0.5 * s, base - 0.2 * s, cx + 0.5 * s, base - 0.2 * s, cx + 0.36 * s, base, cx - 0.38 * s, base), BOAT, hull);
        if (r.nextBoolean()) {
            c.fill(Canvas.bar(cx, base - 0.2 * s, cx, base - 0.95 * s, 0.03 * s), BOAT, noisy(jitter(90, 70, 50, 0.1), 0.2, 0.5));
            c.fill(Canvas.poly(cx + 0.03 * s, base - 0.92 * s, cx + 0.03 * s, base - 0.26 * s, cx + 0.42 * s, base - 0.26 * s), BOAT,
                    noisy(pick(new double[][]{{245, 240, 225}, {230, 120, 60}, {200, 60, 60}}, 0.05), 0.1, 0.3));
        } else {
            c.fill(Canvas.rect(cx - 0.22 * s, base - 0.42 * s, cx + 0.18 * s, base - 0.19 * s), BOAT, noisy(jitter(225, 225, 220, 0.08), 0.1, 0.4));
            for (int i = 0; i < 3; i++) {
                double wx = cx - 0.18 * s + i * 0.12 * s;
                c.fill(Canvas.rect(wx, base - 0.37 * s, wx + 0.07 * s, base - 0.28 * s), BOAT, noisy(jitter(60, 80, 100, 0.1), 0.1, 0.4));
            }
        }
    }

    private void tram(double cx, double base, double s) {
        double hw = 0.75 * s;
        Canvas.Tex body = noisy(pick(new double[][]{{200, 45, 40}, {230, 190, 50}, {40, 90, 170}, {50, 130, 80}}, 0.08), 0.15, 0.3);
        c.fill(Canvas.poly(cx - hw, base - 0.08 * s, cx + hw, base - 0.08 * s, cx + hw, base - 0.5 * s, cx + hw - 0.08 * s, base - 0.58 * s,
                cx - hw + 0.08 * s, base - 0.58 * s, cx - hw, base - 0.5 * s), TRAM, body);
        Canvas.Tex glass = noisy(jitter(150, 180, 200, 0.08), 0.15, 0.5);
        int nw = 4 + r.nextInt(3);
        double ww = 2 * hw / nw;
        for (int i = 0; i < nw; i++)
            c.fill(Canvas.rect(cx - hw + i * ww + 0.15 * ww, base - 0.48 * s, cx - hw + (i + 0.85) * ww, base - 0.32 * s), TRAM, glass);
        c.fill(Canvas.bar(cx, base - 0.58 * s, cx + 0.1 * s, base - 0.75 * s, 0.025 * s), TRAM, noisy(jitter(50, 50, 50, 0.1), 0.1, 0.5));
        Canvas.Tex wheel = noisy(jitter(35, 35, 38, 0.1), 0.2, 0.5);
        for (double wx : new double[]{-0.55, -0.35, 0.35, 0.55})
            c.fill(Canvas.ellipse(cx + wx * s, base - 0.06 * s, 0.07 * s, 0.06 * s, 0), TRAM, wheel);
    }

    /** Head constant (black); body either plain wool or the ground's own texture, lightened and curled. */
    private void sheep(double cx, double base, double s, boolean left, boolean follows) {
        double d = left ? -1 : 1;
        Canvas.Tex legs = noisy(new float[]{30, 28, 28}, 0.1, 0.5);
        for (double lx : new double[]{-0.22, -0.1, 0.1, 0.22})
            c.fill(Canvas.bar(cx + lx * s, base - 0.3 * s, cx + lx * s, base, 0.06 * s), SHEEP, legs);
        Canvas.Tex wool;
        double ox = u(0, 100);
        if (follows) {
            Canvas.Tex g = ground;
            wool = (x, y, o) -> {
                g.at(x + 7, y, o);
                double curl = 0.92 + 0.16 * noise.value(x * 0.9 + ox, y * 0.9);
                for (int k = 0; k < 3; k++) o[k] = (float) Math.min(255, (o[k] * 1.12 + 12) * curl);
            };
        } else {
            float[] base0 = jitter(228, 224, 212, 0.04);
            wool = (x, y, o) -> {
                double curl = 0.88 + 0.24 * noise.value(x * 0.9 + ox, y * 0.9);
                for (int k = 0; k < 3; k++) o[k] = (float) (base0[k] * curl);
            };
        }
        for (int i = 0; i < 6; i++)
            c.fill(Canvas.ellipse(cx + u(-0.22, 0.22) * s, base - u(0.35, 0.5) * s, u(0.15, 0.2) * s, u(0.12, 0.16) * s, 0), SHEEP, wool);
        c.fill(Canvas.ellipse(cx, base - 0.42 * s, 0.3 * s, 0.15 * s, 0), SHEEP, wool);
        Canvas.Tex head = noisy(new float[]{28, 26, 26}, 0.1, 0.5);
        c.fill(Canvas.ellipse(cx + d * 0.36 * s, base - 0.5 * s, 0.09 * s, 0.13 * s, d * 0.4), SHEEP, head);
        c.fill(Canvas.ellipse(cx + d * 0.3 * s, base - 0.6 * s, 0.07 * s, 0.03 * s, -d * 0.3), SHEEP, head);
        c.fill(Canvas.ellipse(cx + d * 0.39 * s, base - 0.53 * s, 0.018 * s, 0.018 * s, 0), SHEEP, (x, y, o) -> { o[0] = 220; o[1] = 210; o[2] = 170; });
    }

    private void bird(double cx, double cy, double s, boolean left) {
        double d = left ? -1 : 1;
        Canvas.Tex body = noisy(pick(new double[][]{{60, 60, 65}, {150, 90, 50}, {230, 230, 225}, {40, 80, 160}, {200, 60, 40}}, 0.1), 0.2, 0.5);
        c.fill(Canvas.ellipse(cx, cy, 0.35 * s, 0.13 * s, d * 0.15), BIRD, body);
        c.fill(Canvas.ellipse(cx + d * 0.33 * s, cy - 0.1 * s, 0.1 * s, 0.09 * s, 0), BIRD, body);
        c.fill(Canvas.poly(cx + d * 0.42 * s, cy - 0.12 * s, cx + d * 0.55 * s, cy - 0.08 * s, cx + d * 0.42 * s, cy - 0.05 * s), BIRD,
                (x, y, o) -> { o[0] = 235; o[1] = 160; o[2] = 40; });
        double up = u(-0.4, 0.4) * s;
        c.fill(Canvas.poly(cx - 0.1 * s, cy - 0.05 * s, cx + 0.12 * s, cy - 0.05 * s, cx - d * 0.25 * s, cy - 0.2 * s - up), BIRD, body);
        c.fill(Canvas.poly(cx - d * 0.3 * s, cy, cx - d * 0.5 * s, cy - 0.08 * s, cx - d * 0.5 * s, cy + 0.08 * s), BIRD, body);
    }

    private void car(double cx, double base, double s, boolean left) {
        Canvas.Tex paint = noisy(pick(new double[][]{{190, 30, 30}, {30, 60, 150}, {220, 220, 215}, {40, 40, 45}, {230, 160, 30}, {90, 140, 90}}, 0.08), 0.12, 0.3);
        double d = left ? -1 : 1;
        c.fill(Canvas.poly(cx - 0.5 * s, base - 0.1 * s, cx + 0.5 * s, base - 0.1 * s, cx + 0.5 * s, base - 0.3 * s, cx + d * 0.25 * s, base - 0.32 * s,
                cx + d * 0.12 * s, base - 0.5 * s, cx - d * 0.3 * s, base - 0.5 * s, cx - d * 0.42 * s, base - 0.32 * s, cx - 0.5 * s, base - 0.3 * s), CAR, paint);
        c.fill(Canvas.poly(cx + d * 0.1 * s, base - 0.46 * s, cx + d * 0.2 * s, base - 0.33 * s, cx - d * 0.36 * s, base - 0.33 * s, cx - d * 0.27 * s, base - 0.46 * s),
                CAR, noisy(jitter(120, 150, 175, 0.08), 0.15, 0.5));
        Canvas.Tex tyre = noisy(jitter(25, 25, 25, 0.1), 0.2, 0.5);
        for (double wx : new double[]{-0.3, 0.3}) c.fill(Canvas.ellipse(cx + wx * s, base - 0.1 * s, 0.1 * s, 0.1 * s, 0), CAR, tyre);
    }
}
