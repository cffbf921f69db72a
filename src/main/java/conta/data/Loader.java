package conta.data;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Multi-threaded batch loader. Worker threads decode and augment whole batches ahead of the consumer; at most
 * {@code prefetch} batches exist at once (bounded memory), and they come out in order. The order and every random
 * choice depend only on (seed, epoch, position), never on thread timing, so runs are reproducible. Under skipBad an
 * unreadable item is left out of its batch (which is then smaller) and listed in {@link #skipped()}.
 */
public final class Loader implements AutoCloseable {
    public record Options(int batchSize, boolean shuffle, boolean dropLast, long seed, int workers, int prefetch, boolean skipBad) {
        public Options {
            if (batchSize < 1 || workers < 1 || prefetch < 1) throw new IllegalArgumentException("batch, workers and prefetch must be >= 1");
        }

        public static Options train(int batchSize, long seed) {
            int wk = Math.max(1, Runtime.getRuntime().availableProcessors());
            return new Options(batchSize, true, true, seed, wk, 2 * wk, false);
        }

        public static Options eval(int batchSize) {
            int wk = Math.max(1, Runtime.getRuntime().availableProcessors());
            return new Options(batchSize, false, false, 0, wk, 2 * wk, false);
        }

        public Options withWorkers(int w, int pre) { return new Options(batchSize, shuffle, dropLast, seed, w, pre, skipBad); }

        public Options withSkipBad(boolean s) { return new Options(batchSize, shuffle, dropLast, seed, workers, prefetch, s); }
    }

    private final Dataset ds;
    private final List<String> ids;
    private final AugmentSpec aug;
    private final Options opt;
    private final ExecutorService pool;
    private final List<BadItem> skipped = Collections.synchronizedList(new ArrayList<>());
    private Epoch current;

    public Loader(Dataset ds, List<String> ids, AugmentSpec aug, Options opt) {
        this.ds = ds;
        this.ids = List.copyOf(ids);
        this.aug = aug;
        this.opt = opt;
        this.pool = Executors.newFixedThreadPool(opt.workers(), r -> {
            Thread t = new Thread(r, "conta-loader");
            t.setDaemon(true);
            return t;
        });
    }

    public int batchesPerEpoch() {
        int n = ids.size(), b = opt.batchSize();
        return opt.dropLast() ? n / b : (n + b - 1) / b;
    }

    /** Items skipped so far under skipBad. */
    public List<BadItem> skipped() { return List.copyOf(skipped); }

    /** The batches of one epoch; starting another epoch cancels the unread rest of this one. */
    public synchronized Iterator<Batch> epoch(int epoch) {
        if (current != null) current.cancel();
        current = new Epoch(epoch);
        return current;
    }

    /** splitmix64 of the inputs: independent random streams per (seed, epoch, position). */
    static long mix(long seed, long a, long b) {
        long z = seed + 0x9E3779B97F4A7C15L * (a + 1) + 0xBF58476D1CE4E5B9L * (b + 2);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private final class Epoch implements Iterator<Batch> {
        private final int epoch;
        private final List<String> order;
        private final ArrayDeque<Future<Batch>> inFlight = new ArrayDeque<>();
        private int submitted, taken;
        private boolean cancelled;
        private final int total = batchesPerEpoch();

        Epoch(int epoch) {
            this.epoch = epoch;
            List<String> o = new ArrayList<>(ids);
            if (opt.shuffle()) {
                SplittableRandom r = new SplittableRandom(mix(opt.seed(), epoch, -1));
                for (int i = o.size() - 1; i > 0; i--) Collections.swap(o, i, r.nextInt(i + 1));
            }
            order = o;
            fill();
        }

        private void fill() {
            while (submitted < total && inFlight.size() < opt.prefetch()) {
                int b = submitted++;
                inFlight.add(pool.submit(() -> build(b)));
            }
        }

        private Batch build(int b) {
            int from = b * opt.batchSize(), to = Math.min(order.size(), from + opt.batchSize());
            List<Sample> ss = new ArrayList<>(to - from);
            for (int i = from; i < to; i++) {
                String id = order.get(i);
                try {
                    ss.add(Augment.apply(ds.read(id), aug, new SplittableRandom(mix(opt.seed(), epoch, i))));
                } catch (DataError e) {
                    if (!opt.skipBad()) throw e;
                    skipped.add(e.asBad());
                }
            }
            return Batch.of(ss, ds.numClasses());
        }

        @Override
        public boolean hasNext() { return !cancelled && taken < total; }

        @Override
        public Batch next() {
            if (cancelled) throw new IllegalStateException("epoch " + epoch + " was cancelled (a newer epoch started or the loader closed)");
            if (!hasNext()) throw new NoSuchElementException();
            Future<Batch> f = inFlight.poll();
            taken++;
            try {
                Batch b = f.get();
                fill();
                return b;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while loading", e);
            } catch (ExecutionException e) {
                cancel();
                if (e.getCause() instanceof RuntimeException r) throw r;
                throw new IllegalStateException(e.getCause());
            } catch (CancellationException e) {
                throw new IllegalStateException("epoch " + epoch + " was cancelled by a newer epoch", e);
            }
        }

        void cancel() {
            cancelled = true;
            for (Future<Batch> f : inFlight) f.cancel(false);
            inFlight.clear();
            submitted = total;
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (current != null) current.cancel();
        }
        pool.shutdownNow();
    }
}
