package conta.pipeline;

import conta.data.Item;
import conta.data.Preprocess;
import conta.image.Resampling;
import conta.wsss.Cams;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/**
 * The CAM stage's one-image look-ahead. While the backend computes image i's maps, a helper thread reads image i+1 and
 * prepares its network inputs: the decode, the resize to each scale, the normalisation with the flip. At VOC size that
 * is about 24 ms of host work per image here, more than an H200 should need for the image's eight forward passes.
 * At most one image is prepared ahead; at scale 2.0 with its flip, its inputs take up to about 35 MB. The images come
 * in the given order with the same items and inputs as a plain loop. A read error surfaces when its image's turn
 * comes, after the images before it were written.
 */
final class CamInputs implements AutoCloseable {
    /** An image to compute: the item and its inputs at every scale (none when it has no labels). */
    record Ready(Item item, Cams.Inputs inputs) { }

    private final ExecutorService helper = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "cam-inputs");
        t.setDaemon(true);
        return t;
    });
    private final Function<String, Item> reader;
    private final Preprocess input;
    private final double[] scales;
    private final Resampling resize;
    private final List<String> ids;
    private int submitted;
    private Future<Ready> pending;

    /** reader: the item of an id, or null when it is skipped as unreadable (--skip-bad). */
    CamInputs(Function<String, Item> reader, Preprocess input, double[] scales, Resampling resize, List<String> ids) {
        this.reader = reader;
        this.input = input;
        this.scales = scales.clone();
        this.resize = resize;
        this.ids = List.copyOf(ids);
        pending = submitNext();
    }

    private Future<Ready> submitNext() {
        if (submitted >= ids.size()) return null;
        String id = ids.get(submitted++);
        return helper.submit(() -> {
            Item it = reader.apply(id);
            if (it == null) return null;
            Cams.Inputs in = it.labels().length == 0 ? Cams.Inputs.none(it.image()) : Cams.inputs(input, it.image(), scales, resize);
            return new Ready(it, in);
        });
    }

    /** The next image in the given order, or null when it was skipped; its successor starts preparing now. */
    Ready next() {
        if (pending == null) throw new IllegalStateException("no images left");
        Future<Ready> f = pending;
        pending = submitNext();
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while preparing CAM inputs", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) throw r;
            if (c instanceof Error err) throw err;
            if (c instanceof IOException io) throw new UncheckedIOException(io);
            throw new IllegalStateException(c);
        }
    }

    @Override
    public void close() { helper.shutdownNow(); }
}
