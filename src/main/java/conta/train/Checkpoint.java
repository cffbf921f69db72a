package conta.train;

import conta.error.UserError;
import conta.io.HostArray;
import conta.io.RunLayout;
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
        Safetensors.Contents c = read(file);
        Map<String, HostArray> model = new LinkedHashMap<>(), mom = new LinkedHashMap<>();
        c.tensors().forEach((k, v) -> (k.endsWith("#momentum") ? mom : model).put(k, v));
        try {
            m.loadState(model, true);
        } catch (IllegalArgumentException e) {
            throw new UserError(file + " does not fit this model (" + e.getMessage() + "); it was written with another configuration: "
                    + fix(file) + ", or restore that configuration", e);
        }
        if (opt != null) {
            Map<String, Tensor> byName = new LinkedHashMap<>();
            for (Tensor p : opt.allParams()) byName.put(p.name, p);
            for (var e : mom.entrySet()) {
                Tensor p = byName.get(e.getKey().substring(0, e.getKey().length() - "#momentum".length()));
                if (p == null) throw new UserError(file + " holds momentum for an unknown parameter " + e.getKey() + "; it was written with another "
                        + "configuration: " + fix(file) + ", or restore that configuration");
                opt.setMomentum(p, e.getValue().data());
            }
        }
        Map<String, String> meta = c.metadata();
        Position pos;
        try {
            pos = new Position(Long.parseLong(meta.getOrDefault("step", "0")), Integer.parseInt(meta.getOrDefault("epoch", "0")),
                    Integer.parseInt(meta.getOrDefault("batch", "0")));
        } catch (NumberFormatException e) {
            throw new UserError(file + " is damaged (its step/epoch/batch metadata " + meta.get("step") + "/" + meta.get("epoch") + "/" + meta.get("batch")
                    + " are not numbers); " + fix(file));
        }
        if (opt != null) opt.setSteps(pos.step());
        return pos;
    }

    /**
     * The model of a finished stage (roundT/STAGE/model.safetensors) into m: unlike {@link #load}, a missing file is an
     * error (its stage's done.json says it was written), naming the file and the fix.
     */
    public static void loadModel(Path file, Module m) {
        check(file, true);
        load(file, m, null);
    }

    /**
     * Checks a checkpoint or stage model by its header (tensor names, shapes and offsets against the file's size: a
     * cut-off or foreign file fails, without reading the tensors); required: a missing file is an error too.
     */
    public static void check(Path file, boolean required) {
        if (!Files.isRegularFile(file)) {
            if (required) throw new UserError(file + " is missing although the stage that writes it has finished; " + fix(file));
            return;
        }
        try {
            Safetensors.entries(file);
        } catch (IOException | RuntimeException e) {
            throw damaged(file, e);
        }
    }

    /** The tensors and metadata of a checkpoint or stage model, or a UserError naming the file, what is wrong and the fix. */
    public static Safetensors.Contents read(Path file) {
        try {
            return Safetensors.readAll(file);
        } catch (IOException | RuntimeException e) {
            throw damaged(file, e);
        }
    }

    /** The reader's problem with file, without the file name it starts with and its advice for downloaded files, and the fix. */
    private static UserError damaged(Path file, Exception e) { return damaged(file, e, fix(file)); }

    /**
     * The same with another fix: the commands that read a finished run (predict, export) name the whole pipeline
     * command, where the pipeline itself only names its --from.
     */
    public static UserError damaged(Path file, Exception e, String fix) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (m.startsWith(file + ": ")) m = m.substring(file.toString().length() + 2);
        return new UserError(file + " is damaged (" + m.replace("; download or copy it again", "") + "); " + fix, e);
    }

    /**
     * What to do about a damaged or missing file of a pipeline stage: a training checkpoint can go (that training
     * restarts from its first step), a finished stage's model is recomputed with --from roundT/STAGE. Files outside a
     * run folder get the general advice.
     */
    public static String fix(Path file) {
        RunLayout.StageFile sf = RunLayout.stageOf(file);
        String at = sf == null ? null : sf.at();
        if (file.getFileName().toString().equals("checkpoint.safetensors"))
            return "delete it to restart this training from its first step" + (at == null ? "" : ", or rerun with --from " + at);
        return at == null ? "replace it with an intact copy" : "rerun with --from " + at + " to recompute it and the stages after it";
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
