package conta.train;

import java.io.PrintStream;

/**
 * A one-line progress bar with rate and ETA on stderr. On a terminal it redraws in place; otherwise (CI logs, files)
 * it prints a line every 10% so logs stay short. Steps may come from several threads.
 */
public final class Progress {
    private final String label;
    private final long total;
    private final PrintStream out;
    private final boolean tty = System.console() != null;
    private final long t0 = System.nanoTime();
    private final long startDone;
    private long done;
    private int lastDecile = -1;
    private long lastDraw;
    private String extra = "";

    /** @param already items finished before this run (resumed work): they count toward the bar but not the rate */
    public Progress(String label, long total, long already) {
        this.label = label;
        this.total = Math.max(total, 0);
        this.done = already;
        this.startDone = already;
        this.out = System.err;
        draw(true);
    }

    public synchronized void step(long n, String info) {
        Faults.tick(label);
        done += n;
        if (info != null) extra = info;
        draw(done >= total);
    }

    public void step(String info) { step(1, info); }

    public synchronized void finish() {
        done = Math.max(done, total);
        draw(true);
        if (tty) out.println();
    }

    private void draw(boolean force) {
        long now = System.nanoTime();
        int decile = total == 0 ? 10 : (int) (10 * done / total);
        if (tty) {
            if (!force && now - lastDraw < 200_000_000L) return;
        } else if (!force && decile == lastDecile) return;
        lastDraw = now;
        lastDecile = decile;
        double secs = (now - t0) / 1e9;
        long fresh = done - startDone;
        double rate = secs > 0 ? fresh / secs : 0;
        String eta = rate > 0 && done < total ? fmt((total - done) / rate) : done >= total ? "done" : "--";
        int width = 24, fill = total == 0 ? width : (int) (width * Math.min(done, total) / total);
        String bar = "#".repeat(fill) + ".".repeat(width - fill);
        String line = String.format("%-14s [%s] %d/%d  %.2f/s  %s elapsed  ETA %s  %s", label, bar, done, total, rate, fmt(secs), eta, extra);
        if (tty) out.print("\r" + line + "   ");
        else out.println(line);
        out.flush();
    }

    static String fmt(double s) {
        long t = Math.round(s);
        return t >= 3600 ? String.format("%dh%02dm", t / 3600, t / 60 % 60) : t >= 60 ? String.format("%dm%02ds", t / 60, t % 60) : t + "s";
    }
}
