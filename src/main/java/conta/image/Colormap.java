package conta.image;

/**
 * Viridis, the perceptually uniform colormap of matplotlib, for CAM heatmaps: a value's brightness rises steadily from
 * 0 (dark blue) to 1 (yellow), so a weak activation stays visible instead of vanishing as in an opacity tint. The
 * degree-6 polynomial fit (Matt Zucker's) is within about 1% of matplotlib's table; ColormapTest checks it there.
 */
public final class Colormap {
    private Colormap() { }

    private static final double[][] C = {
            {0.2777273272234177, 0.005407344544966578, 0.3340998053353061},
            {0.1050930431085774, 1.404613529898575, 1.384590162594685},
            {-0.3308618287255563, 0.214847559468213, 0.09509516302823659},
            {-4.634230498983486, -5.799100973351585, -19.33244095627987},
            {6.228269936347081, 14.17993336680509, 56.69055260068105},
            {4.776384997670288, -13.74514537774601, -65.35303263337234},
            {-5.435455855934631, 4.645852612178535, 26.3124352495832}};

    /** 0xRRGGBB of viridis(t), t clamped to [0, 1] (NaN as 0). */
    public static int viridis(double t) {
        if (!(t > 0)) t = 0;
        if (t > 1) t = 1;
        int rgb = 0;
        for (int ch = 0; ch < 3; ch++) {
            double v = C[6][ch];
            for (int i = 5; i >= 0; i--) v = C[i][ch] + t * v;
            rgb = rgb << 8 | (int) Math.round(255 * Math.max(0, Math.min(1, v)));
        }
        return rgb;
    }
}
