package conta.pipeline;

import conta.config.Config;
import conta.io.HostArray;
import conta.models.DeepLabV2;
import conta.nn.Module;
import conta.tensor.Backend;
import conta.tensor.cpu.CpuBackend;
import conta.wsss.Backbones;
import conta.wsss.ClassifierStage;
import conta.wsss.PseudoStage;
import conta.wsss.SegStage;
import conta.wsss.irn.BoundaryNet;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The start-up check of the weights files a config names by path (cls/irn/seg.weights): each is read once and loaded
 * into a scratch copy of its stage's network on the CPU, so that a file that is unreadable or made for another
 * network is refused before a run writes anything, not when its stage starts hours later ("imagenet" is fetched, and
 * checked, by its stage). Round 0's networks: a file that fits them fits CONTA's context-widened ones too. Costs a
 * second read of each file and 0.5-2 s of network building (ResNet-101 DeepLab on 2 cores); skipped for a file whose
 * stage has finished in every round (a resumed or re-reported run that will not load it again).
 */
final class WeightsCheck {
    private WeightsCheck() { }

    /** Checks each weights path of c whose file willLoad says a stage of this run still loads (by key). */
    static void run(Config c, int classes, Predicate<String> willLoad) {
        for (String key : Backbones.WEIGHT_KEYS) {
            String spec = c.str(key);
            if (List.of("imagenet", "none", "cls").contains(spec) || !willLoad.test(key)) continue;
            Path file = Path.of(spec);
            Map<String, HostArray> w = Backbones.read(file, key);
            if (key.equals("seg.weights")) SegStage.depthOf(file, w); // seg.blocks=auto: the depth from this read, not another
            try (Backend cpu = new CpuBackend(); Module net = network(c, key, classes, cpu)) {
                Backbones.fit(net instanceof BoundaryNet b ? b.backbone() : net instanceof DeepLabV2 d ? d.backbone : net, w, file, key);
            }
        }
    }

    /** The network of the stage that key initialises, as the stage builds it (the classifier: its backbone is itself). */
    private static Module network(Config c, String key, int classes, Backend cpu) {
        return switch (key) {
            case "cls.weights" -> ClassifierStage.build(c, classes, 0, cpu);
            case "irn.weights" -> PseudoStage.boundarySpec(c).build(cpu, c.integer("seed"));
            case "seg.weights" -> SegStage.build(c, classes + 1, cpu);
            default -> throw new IllegalArgumentException(key);
        };
    }
}
