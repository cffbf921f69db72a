package conta.train;

import java.io.PrintStream;

/**
 * A one-line progress bar with rate (in the bar's unit: img/s, step/s) and ETA on stderr, at most 79 columns so an
 * 80-column terminal never wraps it. On a terminal it redraws in place; otherwise (CI logs, run.log) it prints a line
 * at the start, after the first step (the first rate and ETA), every 10% and at least once a minute, each state once,
 * so logs stay short and a slow stage never looks hung. Steps may come from several threads.
 */
public final class Progress {
    /** Longest line: one less than an 80-column terminal, whose last column would wrap. */
    static final int WIDTH = 79;
    private final String label;
    private final long total;
    private final PrintStream out;
    private final boolean tty = System.console() != null && System.console().isTerminal(); // JDK 22+ may give a Console for redirected streams
    /** Nanoseconds; tests swap it to pass time. */
    static java.util.function.LongSupplier clock = System::nanoTime;
    /** A file log's longest silence: a full-size recipe's step can take 20 s, so 10% of 125 steps was 4 minutes. */
    static final long FILE_EVERY_NS = 60_000_000_000L;
    private final long t0 = clock.getAsLong();
    /** Items that took no work this run (given up front or met as {@link #skipped}): they do not count in the rate. */
    private long startDone;
    private long done;
    private int lastDecile = -1;
    private long lastDraw;
    private String extra = "";
    private final String unit;
    private long lastPrinted = -1;

    /** @param already items finished before this run (resumed work): they count toward the bar but not the rate */
    public Progress(String label, long total, long already) { this(label, total, already, "img"); }

    /** @param unit what one step counts, shown with the rate ("img" gives img/s, "step" gives step/s) */
    public Progress(String label, long total, long already, String unit) {
        this.unit = unit;
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

    /**
     * An item found done by an earlier run (a resumed stage meets its written files one by one): it counts toward the
     * bar but not toward the rate or the ETA, which a run of such instant items made look many times faster.
     */
    public synchronized void skipped(String info) {
        Faults.tick(label); // an injected kill may land here too, as it did when these were steps (PipelineResumeTest)
        done++;
        startDone++;
        if (info != null) extra = info;
        draw(done >= total);
    }

    public synchronized void finish() {
        done = Math.max(done, total);
        draw(true);
        if (tty) out.println();
    }

    private void draw(boolean force) {
        long now = clock.getAsLong();
        int decile = total == 0 ? 10 : (int) (10 * done / total);
        if (tty) {
            if (!force && now - lastDraw < 200_000_000L) return;
        } else {
            boolean due = force || decile != lastDecile || done == startDone + 1 || now - lastDraw >= FILE_EVERY_NS;
            if (!due || done == lastPrinted) return; // a file log gets each state once
        }
        lastPrinted = done;
        lastDraw = now;
        lastDecile = decile;
        double secs = (now - t0) / 1e9;
        long fresh = done - startDone;
        double rate = secs > 0 ? fresh / secs : 0;
        // tqdm's compact form: elapsed<remaining, then the rate with its unit
        String eta = rate > 0 && done < total ? "<" + fmt((total - done) / rate) : done >= total ? "" : "<?";
        int width = 8, fill = total == 0 ? width : (int) (width * Math.min(done, total) / total);
        String bar = "#".repeat(fill) + ".".repeat(width - fill);
        // 18 columns, up to 25 for a round's stage ("round 100 boundary branch"); the line is cut at WIDTH all the same
        String name = label.length() > 25 ? label.substring(0, 25) : label;
        String rateText = rate >= 10 ? String.format("%.0f", rate) : rate >= 1 ? String.format("%.1f", rate) : String.format("%.2f", rate);
        String line = String.format("%-18s [%s] %d/%d %s%s %s %s/s %s", name, bar, done, total, fmt(secs), eta, rateText, unit, extra).stripTrailing();
        if (line.length() > WIDTH) line = line.substring(0, WIDTH);
        if (tty) out.print("\r" + line + " ".repeat(WIDTH - line.length()));
        else out.println(line);
        out.flush();
    }

    static String fmt(double s) {
        long t = Math.round(s);
        return t >= 3600 ? String.format("%dh%02dm", t / 3600, t / 60 % 60) : t >= 60 ? String.format("%dm%02ds", t / 60, t % 60) : t + "s";
    }
}
