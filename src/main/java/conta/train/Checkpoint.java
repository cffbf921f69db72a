package conta.train;

import conta.io.HostArray;
import conta.io.Safetensors;
import conta.nn.Module;
import conta.optim.Sgd;
import conta.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A resumable training state in one safetensors file: the module's state (external names), the optimizer's momentum
 * buffers (suffix {@code #momentum}) and counters in the metadata. Written atomically, so a kill leaves either the
 * previous or the new checkpoint, never half of one. Restoring it and replaying the deterministic loader from the same
 * position continues the run bit for bit.
 */
public final class Checkpoint {
    private Checkpoint() { }

    /** Position of a run: optimizer steps taken, and the epoch and batch index where the next step starts. */
    public record Position(long step, int epoch, int batch) { }

    public static void save(Path file, Module m, Sgd opt, Position pos, Map<String, String> extraMeta) {
        Map<String, HostArray> t = new LinkedHashMap<>(m.exportState());
        if (opt != null)
            for (var e : opt.momentumState().entrySet()) t.put(e.getKey(), new HostArray(e.getValue().shape(), e.getValue().toArray()));
        Map<String, String> meta = new LinkedHashMap<>(extraMeta == null ? Map.of() : extraMeta);
        meta.put("step", Long.toString(pos.step()));
        meta.put("epoch", Integer.toString(pos.epoch()));
        meta.put("batch", Integer.toString(pos.batch()));
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Safetensors.write(file, t, meta);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + file + ": " + e.getMessage(), e);
        }
    }

    /** Restores module and momentum; returns the position to continue from, or null if the file does not exist. */
    public static Position load(Path file, Module m, Sgd opt) {
        if (!Files.isRegularFile(file)) return null;
        Safetensors.Contents c;
        try {
            c = Safetensors.readAll(file);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("checkpoint " + file + " is unreadable (" + e.getMessage() + "); delete it to restart this stage", e);
        }
        Map<String, HostArray> model = new LinkedHashMap<>(), mom = new LinkedHashMap<>();
        c.tensors().forEach((k, v) -> (k.endsWith("#momentum") ? mom : model).put(k, v));
        try {
            m.loadState(model, true);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("checkpoint " + file + " does not fit this model (" + e.getMessage()
                    + "); it was written with another configuration: delete it or restore that configuration", e);
        }
        if (opt != null) {
            Map<String, Tensor> byName = new LinkedHashMap<>();
            for (Tensor p : opt.allParams()) byName.put(p.name, p);
            for (var e : mom.entrySet()) {
                Tensor p = byName.get(e.getKey().substring(0, e.getKey().length() - "#momentum".length()));
                if (p == null) throw new IllegalStateException("checkpoint " + file + " holds momentum for unknown parameter " + e.getKey());
                opt.setMomentum(p, e.getValue().data());
            }
        }
        Map<String, String> meta = c.metadata();
        Position pos = new Position(Long.parseLong(meta.getOrDefault("step", "0")), Integer.parseInt(meta.getOrDefault("epoch", "0")),
                Integer.parseInt(meta.getOrDefault("batch", "0")));
        if (opt != null) opt.setSteps(pos.step());
        return pos;
    }

    /** Metadata of a checkpoint (e.g. to check it belongs to the same config). */
    public static Map<String, String> meta(Path file) {
        try {
            return Safetensors.metadata(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
