package conta.wsss;

import conta.data.Dataset;
import conta.image.Mask;
import conta.image.RgbImage;
import conta.pipeline.Config;
import conta.tensor.Backend;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Stage 2b (WIP): IR labels, boundary branch, random walk. */
public final class PseudoStage {
    public PseudoStage(Config cfg, Dataset ds, List<String> ids, Backend b) { }

    public void irLabels(Path camDir, Path irDir) { throw new UnsupportedOperationException("IR labels: not merged yet"); }

    public Map<String, Object> trainBoundary(Path irDir, Path dir, Path model) { throw new UnsupportedOperationException("boundary: not merged yet"); }

    public void randomWalk(Path camDir, Path edgeModel, Path out) { throw new UnsupportedOperationException("walk: not merged yet"); }

    public static Mask crfRefine(RgbImage im, float[] probs, int k) { throw new UnsupportedOperationException("crf: not merged yet"); }
}
