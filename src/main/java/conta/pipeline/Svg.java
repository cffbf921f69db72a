package conta.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Inline SVG charts for the HTML reports (no script, no external file): line charts with axes, and bar charts. */
final class Svg {
    private Svg() { }

    /** One line: points (x[i], y[i]); non-finite points are skipped. */
    record Series(String name, String color, double[] x, double[] y, double width, double opacity) {
        Series(String name, String color, double[] x, double[] y) { this(name, color, x, y, 1.5, 1); }
    }

    /** A vertical mark at x (a chosen threshold). */
    record Mark(double x, String label, String color) { }

    static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

    private static final int W = 460, H = 230, L = 62, R = 12, T = 26, B = 40;

    static String line(String id, String title, String xLabel, String yLabel, List<Series> series, boolean logY, List<Mark> marks) {
        double x0 = Double.POSITIVE_INFINITY, x1 = Double.NEGATIVE_INFINITY, y0 = Double.POSITIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
        for (Series s : series)
            for (int i = 0; i < s.x().length; i++) {
                double y = ty(s.y()[i], logY);
                if (!Double.isFinite(s.x()[i]) || !Double.isFinite(y)) continue;
                x0 = Math.min(x0, s.x()[i]); x1 = Math.max(x1, s.x()[i]);
                y0 = Math.min(y0, y); y1 = Math.max(y1, y);
            }
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<svg class='chart' id='%s' data-title='%s' width='%d' height='%d' viewBox='0 0 %d %d' xmlns='http://www.w3.org/2000/svg' role='img'>",
                id, esc(title), W, H, W, H));
        b.append("<title>").append(esc(title)).append("</title>");
        b.append(String.format(Locale.ROOT, "<text x='%d' y='16' font-size='13' font-weight='bold'>%s</text>", L, esc(title)));
        if (x0 > x1) return b.append("<text x='80' y='120'>no data</text></svg>").toString();
        if (x0 == x1) { x0 -= 1; x1 += 1; }
        if (y0 == y1) { y0 -= logY ? 0.5 : Math.max(1e-6, Math.abs(y0) * 0.1); y1 += logY ? 0.5 : Math.max(1e-6, Math.abs(y1) * 0.1); }
        double pad = (y1 - y0) * 0.05;
        y0 -= pad;
        y1 += pad;
        int pw = W - L - R, ph = H - T - B;
        b.append(String.format(Locale.ROOT, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#999'/>", L, T, pw, ph));
        for (double v : ticks(y0, y1, logY)) {
            double py = T + ph - (v - y0) / (y1 - y0) * ph;
            b.append(String.format(Locale.ROOT, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='#eee'/>", L, L + pw, py, py));
            b.append(String.format(Locale.ROOT, "<text x='%d' y='%.1f' font-size='10' text-anchor='end'>%s</text>", L - 4, py + 3, num(logY ? Math.pow(10, v) : v)));
        }
        for (double v : ticks(x0, x1, false)) {
            double px = L + (v - x0) / (x1 - x0) * pw;
            b.append(String.format(Locale.ROOT, "<text x='%.1f' y='%d' font-size='10' text-anchor='middle'>%s</text>", px, T + ph + 13, num(v)));
        }
        b.append(String.format(Locale.ROOT, "<text x='%d' y='%d' font-size='11' text-anchor='middle'>%s</text>", L + pw / 2, H - 6, esc(xLabel)));
        b.append(String.format(Locale.ROOT, "<text x='12' y='%d' font-size='11' text-anchor='middle' transform='rotate(-90 12 %d)'>%s</text>",
                T + ph / 2, T + ph / 2, esc(yLabel + (logY ? " (log)" : ""))));
        for (Mark m : marks) {
            if (m.x() < x0 || m.x() > x1) continue;
            double px = L + (m.x() - x0) / (x1 - x0) * pw;
            b.append(String.format(Locale.ROOT, "<line class='mark' x1='%.1f' x2='%.1f' y1='%d' y2='%d' stroke='%s' stroke-dasharray='4 3'/>", px, px, T, T + ph, m.color()));
            b.append(String.format(Locale.ROOT, "<text x='%.1f' y='%d' font-size='10' fill='%s'>%s</text>", px + 3, T + 12 + 12 * marks.indexOf(m), m.color(), esc(m.label())));
        }
        int ly = T + 12;
        for (Series s : series) {
            StringBuilder pts = new StringBuilder();
            for (int i = 0; i < s.x().length; i++) {
                double y = ty(s.y()[i], logY);
                if (!Double.isFinite(s.x()[i]) || !Double.isFinite(y)) continue;
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", L + (s.x()[i] - x0) / (x1 - x0) * pw, T + ph - (y - y0) / (y1 - y0) * ph));
            }
            b.append(String.format(Locale.ROOT, "<polyline class='series' data-name='%s' fill='none' stroke='%s' stroke-width='%.1f' stroke-opacity='%.2f' points='%s'/>",
                    esc(s.name()), s.color(), s.width(), s.opacity(), pts.toString().strip()));
            if (s.opacity() >= 0.99 && !s.name().isEmpty()) {
                b.append(String.format(Locale.ROOT, "<text x='%d' y='%d' font-size='10' fill='%s' text-anchor='end'>%s</text>", L + pw - 4, ly, s.color(), esc(s.name())));
                ly += 12;
            }
        }
        return b.append("</svg>").toString();
    }

    /** Horizontal bars, one per label, signed values around a zero line (per-class deltas, attention weights). */
    static String bars(String id, String title, List<String> labels, double[] values, String unit) {
        int rowH = 16, w = 420, left = 130, top = 24, h = top + rowH * labels.size() + 10;
        double max = 1e-12;
        boolean neg = false;
        for (double v : values) if (Double.isFinite(v)) { max = Math.max(max, Math.abs(v)); neg |= v < 0; }
        int span = w - left - 60, zero = left + (neg ? span / 2 : 0), half = neg ? span / 2 : span;
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                "<svg class='chart bars' id='%s' data-title='%s' width='%d' height='%d' viewBox='0 0 %d %d' xmlns='http://www.w3.org/2000/svg' role='img'><title>%s</title>",
                id, esc(title), w, h, w, h, esc(title)));
        b.append(String.format(Locale.ROOT, "<text x='4' y='15' font-size='12' font-weight='bold'>%s</text>", esc(title)));
        for (int i = 0; i < labels.size(); i++) {
            double v = values[i];
            int y = top + i * rowH;
            b.append(String.format(Locale.ROOT, "<text x='%d' y='%d' font-size='11' text-anchor='end'>%s</text>", left - 6, y + 11, esc(labels.get(i))));
            if (!Double.isFinite(v)) { b.append(String.format(Locale.ROOT, "<text x='%d' y='%d' font-size='10'>-</text>", zero + 3, y + 11)); continue; }
            double len = Math.abs(v) / max * half;
            double x = v >= 0 ? zero : zero - len;
            b.append(String.format(Locale.ROOT, "<rect x='%.1f' y='%d' width='%.1f' height='%d' fill='%s'/>", x, y + 2, len, rowH - 4, v >= 0 ? "#2ca02c" : "#d62728"));
            b.append(String.format(Locale.ROOT, "<text x='%.1f' y='%d' font-size='10'>%s%s</text>", v >= 0 ? x + len + 3 : zero + 3, y + 11, num(v), esc(unit)));
        }
        b.append(String.format(Locale.ROOT, "<line x1='%d' x2='%d' y1='%d' y2='%d' stroke='#555'/>", zero, zero, top, h - 8));
        return b.append("</svg>").toString();
    }

    private static double ty(double y, boolean log) { return log ? (y > 0 ? Math.log10(y) : Double.NaN) : y; }

    /** About five round tick values in [a, b] (powers of ten on a log axis). */
    static List<Double> ticks(double a, double b, boolean log) {
        List<Double> t = new ArrayList<>();
        if (log) {
            for (double e = Math.ceil(a); e <= Math.floor(b); e++) t.add(e);
            if (t.size() >= 2) return t;
            t.clear();
        }
        double raw = (b - a) / 5, mag = Math.pow(10, Math.floor(Math.log10(raw))), step = mag;
        if (!(raw > 0) || !Double.isFinite(raw) || !(mag > 0)) return List.of(a); // a degenerate range: one label
        for (double m : new double[]{1, 2, 5, 10}) if (raw <= m * mag) { step = m * mag; break; }
        double v = Math.ceil(a / step) * step;
        for (int i = 0; i < 12 && v <= b + step * 1e-9; i++, v = Math.ceil(a / step) * step + i * step) // bounded: rounding cannot loop
            t.add(Math.abs(v) < step * 1e-9 ? 0 : v);
        return t;
    }

    static String num(double v) {
        double a = Math.abs(v);
        if (a == 0) return "0";
        if (a >= 1e4 || a < 1e-3) return String.format(Locale.ROOT, "%.1e", v);
        if (a >= 100) return String.format(Locale.ROOT, "%.0f", v);
        String t = String.format(Locale.ROOT, "%.3g", v); // 0.0100 -> 0.01, 50.0 -> 50
        return t.contains(".") ? t.replaceAll("0+$", "").replaceAll("\\.$", "") : t;
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;").replace("\"", "&quot;");
    }
}
