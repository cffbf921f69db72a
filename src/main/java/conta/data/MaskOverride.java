package conta.data;

import conta.error.UserError;
import conta.image.IndexPng;
import conta.image.Mask;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A dataset whose masks come from a folder of ID.png label maps (pseudo-masks, IR labels) instead of the ground truth:
 * how the segmentation and boundary stages train on what earlier stages produced. A damaged one is not a bad data item
 * that --skip-bad may leave out silently: it is an output to recompute, so its error stops the run (the pipeline names
 * the --from that does it).
 */
public final class MaskOverride implements Dataset {
    private final Dataset base;
    private final Path masks;

    public MaskOverride(Dataset base, Path masks) {
        this.base = base;
        this.masks = masks;
    }

    @Override public Path root() { return base.root(); }

    @Override public List<String> splits() { return base.splits(); }

    @Override public List<String> ids(String split) { return base.ids(split); }

    @Override public List<String> classNames() { return base.classNames(); }

    @Override public int[] labels(String id) { return base.labels(id); }

    @Override public boolean hasMask(String id) { return Files.isRegularFile(masks.resolve(id + ".png")); }

    @Override
    public Mask mask(String id) {
        Path f = masks.resolve(id + ".png");
        try {
            return IndexPng.read(f);
        } catch (IOException e) {
            throw new UserError("cannot read label map " + f + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Item read(String id) {
        Item it = base.read(id);
        Mask m = mask(id);
        if (m.h() != it.image().h() || m.w() != it.image().w())
            throw new UserError("label map " + masks.resolve(id + ".png") + " is " + m.w() + "x" + m.h()
                    + " but the image is " + it.image().w() + "x" + it.image().h());
        return new Item(id, it.image(), m, it.labels());
    }
}
