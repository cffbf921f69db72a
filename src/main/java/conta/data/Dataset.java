package conta.data;

import conta.image.Mask;
import java.nio.file.Path;
import java.util.List;

/**
 * A labelled image set (VOC, COCO, custom, synthetic). Ids are file stems. Class 0 is background; foreground classes
 * are 1..numClasses(). Implementations are thread-safe for reading.
 */
public interface Dataset {
    /** Where the set lives (for messages). */
    Path root();

    /** Split names this set knows (e.g. train, val, trainval, train_aug). */
    List<String> splits();

    /** Ids of a split, in list order; an unknown split is a {@link DataError} naming the known ones. */
    List<String> ids(String split);

    /** Number of foreground classes C. */
    default int numClasses() { return classNames().size() - 1; }

    /** C+1 names, background first. */
    List<String> classNames();

    /** Image-level labels of an id: sorted foreground class indices 1..C. */
    int[] labels(String id);

    /** Whether pixel masks exist for this id. */
    boolean hasMask(String id);

    /** The mask alone (no image decoding), or null without one; used by evaluation. */
    Mask mask(String id);

    /** Decoded image, mask (null if none) and labels; checks that mask and image sizes agree. */
    Item read(String id);

    /**
     * The files whose content defines an id (its image, its mask or annotation file), for the run's input fingerprint;
     * empty where a set cannot say (then only ids and labels bind a run to its data).
     */
    default List<Path> files(String id) { return List.of(); }

    /** Entries dropped while opening under skip-bad (bad label lines, unknown classes). */
    default List<BadItem> skipped() { return List.of(); }

    /** Unaugmented sample: ImageNet-normalised float CHW at the original size. */
    default Sample load(String id) { return load(id, Preprocess.IMAGENET); }

    /** Unaugmented sample with the given input preprocessing. */
    default Sample load(String id, Preprocess input) {
        return Augment.apply(read(id), AugmentSpec.none().withInput(input), new java.util.SplittableRandom(0));
    }
}
