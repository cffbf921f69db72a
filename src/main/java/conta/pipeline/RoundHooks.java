package conta.pipeline;

import conta.data.Item;
import conta.io.HostArray;
import conta.models.ResNet;
import conta.wsss.ClassifierStage;
import java.nio.file.Path;

/** What a method adds to a baseline round: CONTA's context map, C²AM's front-door fine-tuning. */
public interface RoundHooks {
    RoundHooks NONE = new RoundHooks() { };

    /** Channels of the context map concatenated to the classifier's features in round t (0 = none; where: conta.blocks). */
    default int contextChannels(int round) { return 0; }

    /** Loss/context terms of the classifier in round t. */
    default ClassifierStage.Head classifierHead(int round, ResNet net) { return ClassifierStage.BASELINE; }

    /** The dataset the classifier of round t trains on (CONTA carries each image's predicted mask as its mask). */
    default conta.data.Dataset classifierData(int round, conta.data.Dataset ds) { return ds; }

    /** The classifier whose CAMs round t uses (C²AM fine-tunes it first). */
    default Path classifierForCams(int round, Path clsModel) { return clsModel; }

    /** Called after the classifier of round t is trained (before it is saved). */
    default void afterClassifier(int round, ResNet net) { }

    /** The context map (K x h x w) of one training image for CAM inference in round t, or null. */
    default HostArray context(int round, String id, Item item) { return null; }

    /** Called when round t is complete (CONTA builds the next confounder set here). */
    default void afterRound(int round, Pipeline p, Path segModel) { }
}
