package conta.train;

import conta.autograd.Tape;
import conta.data.AugmentSpec;
import conta.data.Batch;
import conta.data.Dataset;
import conta.data.Loader;
import conta.nn.Module;
import conta.optim.PolyLr;
import conta.optim.Sgd;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The one training loop of every stage (classifier, boundary branch, segmentation): deterministic batches from
 * {@link Loader}, polynomial learning-rate decay applied before each step (IRNet/deeplab-pytorch), a NaN/Inf check
 * that stops with the step number, and checkpoints every {@code checkpointEvery} steps and at the end of each epoch.
 * Rerun after a kill, it restores the last checkpoint and replays the loader to the same batch, so the result is the
 * same as an uninterrupted run. Every step is appended to STAGE/train_log.jsonl ({@link TrainLog}, next to the checkpoint).
 */
public final class Trainer {
    private Trainer() { }

    /** Loss of one batch, computed under the open tape (forward only; the trainer runs backward). */
    public interface LossFn {
        Tensor loss(Tensor images, Batch batch);
    }

    /**
     * @param steps          total optimizer steps; epochs follow from the loader's batches per epoch
     * @param checkpointEvery steps between checkpoints (0 = only at epoch ends)
     */
    public record Plan(String label, Dataset ds, List<String> ids, AugmentSpec aug, int batch, long steps, long seed,
                       int workers, boolean skipBad, float lr, float power, int checkpointEvery) {
        /** Steps of the given number of epochs with drop-last batching. */
        public static long stepsOf(int epochs, int items, int batch) {
            return (long) epochs * Math.max(1, items / batch);
        }
    }

    public record Result(long steps, float lastEpochLoss, double seconds) { }

    public static Result run(Module m, Sgd opt, Plan p, LossFn f, Path ckpt, Map<String, String> meta) {
        Backend b = m.backend();
        m.train(true);
        int batch = Math.min(p.batch(), p.ids().size());
        if (batch < 1) throw new IllegalArgumentException(p.label() + ": no training images");
        Loader.Options lo = Loader.Options.train(batch, p.seed()).withWorkers(Math.max(1, p.workers()), 2 * Math.max(1, p.workers()))
                .withSkipBad(p.skipBad());
        PolyLr sched = new PolyLr(p.lr(), p.steps(), p.power());
        Checkpoint.Position pos = Checkpoint.load(ckpt, m, opt);
        long saved = pos == null ? -1 : pos.step(); // step of the newest checkpoint on disk, -1 = none yet (for the NaN message)
        LossWatch watch = LossWatch.resumed(pos == null ? null : Checkpoint.meta(ckpt));
        if (pos == null) pos = new Checkpoint.Position(0, 0, 0);
        long step = pos.step();
        long t0 = System.nanoTime();
        double epochLoss = 0;
        int epochCount = 0;
        Map<String, Float> parts;
        try (Loader loader = new Loader(p.ds(), p.ids(), p.aug(), lo);
             TrainLog log = TrainLog.open(ckpt.toAbsolutePath().getParent(), step)) {
            int per = loader.batchesPerEpoch();
            Progress bar = new Progress(p.label(), p.steps(), step, "step");
            int epoch = pos.epoch(), skip = pos.batch();
            while (step < p.steps()) {
                Iterator<Batch> it = loader.epoch(epoch);
                int bi = 0;
                epochLoss = 0;
                epochCount = 0;
                while (it.hasNext() && step < p.steps()) {
                    Batch bt = it.next();
                    if (bi++ < skip) continue;
                    if (bt.n() == 0) continue;
                    long ts = System.nanoTime();
                    float lr = sched.at(step);
                    LossParts.begin();
                    float loss;
                    try {
                        loss = step(m, opt, f, b, bt, lr, p.label(), step, saved, watch);
                    } finally {
                        parts = LossParts.end();
                    }
                    step++;
                    log.step(step, epoch + 1, loss, parts, groupRates(opt, lr), bt.n(), (System.nanoTime() - ts) / 1e9);
                    watch.observe(loss, step);
                    if (watch.ranAway()) throw watch.runaway(p.label(), saved);
                    epochLoss += loss;
                    epochCount++;
                    double shown = epochLoss / epochCount; // a run-away loss in 4 significant digits: 1.485e+27, not 28 digits cut at the bar's width
                    bar.step(String.format(Math.abs(shown) < 1e4 ? "loss %.4f ep %d" : "loss %.4g ep %d", shown, epoch + 1));
                    boolean epochEnd = bi == per;
                    if (epochEnd || (p.checkpointEvery() > 0 && step % p.checkpointEvery() == 0) || step == p.steps()) {
                        Map<String, String> withLoss = new java.util.LinkedHashMap<>(meta);
                        withLoss.putAll(watch.atSave(loss));
                        Checkpoint.save(ckpt, m, opt, epochEnd ? new Checkpoint.Position(step, epoch + 1, 0)
                                : new Checkpoint.Position(step, epoch, bi), withLoss);
                        saved = step;
                    }
                }
                skip = 0;
                epoch++;
            }
            bar.finish();
        }
        String blown = watch.endedRunAway(p.label()); // too short a run-away to stop training (SUSTAINED steps), said all the same
        if (blown != null) System.err.println("warning: " + blown);
        opt.zeroGrad();
        return new Result(step, epochCount == 0 ? Float.NaN : (float) (epochLoss / epochCount), (System.nanoTime() - t0) / 1e9);
    }

    /** The learning rate each parameter group trains with at this step (base rate x the group's multiplier). */
    private static Map<String, Float> groupRates(Sgd opt, float lr) {
        Map<String, Float> m = new java.util.LinkedHashMap<>();
        for (Sgd.Group g : opt.groups()) m.put(g.name(), lr * g.lrMult());
        return m;
    }

    private static float step(Module m, Sgd opt, LossFn f, Backend b, Batch bt, float lr, String label, long step, long saved, LossWatch watch) {
        opt.zeroGrad();
        float v;
        try (Tape tape = Tape.open(true); Tensor x = Tensor.of(b, bt.images(), bt.n(), 3, bt.h(), bt.w())) {
            Tensor loss = f.loss(x, bt);
            v = loss.item();
            if (!Float.isFinite(v)) throw watch.nan(label, v, step + 1, bt.ids(), saved);
            tape.backward(loss);
        }
        opt.step(lr);
        return v;
    }
}
