package conta.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The folders of a pipeline run, spelt in one place: {@code OUT/roundT/STAGE/...} (T = 0, 1, ...; STAGE = cls, cam,
 * seeds, ...). The pipeline writes them; predict, export and eval find a run's models in them; error messages name the
 * stage to redo as {@code --from roundT/STAGE}, taken from a file's path with {@link #stageOf(Path)}. It sits below
 * train, wsss and pipeline because all three read paths of this shape.
 */
public final class RunLayout {
    private RunLayout() { }

    /**
     * A round folder's name as a regular expression, T in group 1: as {@link #roundName} spells it (no leading zeros,
     * so round01 is not a second name of round1), at most 6 digits (rounds are limited to 100).
     */
    public static final String ROUND_REGEX = "round(0|[1-9][0-9]{0,5})";
    private static final Pattern ROUND = Pattern.compile(ROUND_REGEX);

    /** The stages that train a network: a checkpoint.safetensors while they run, a model.safetensors once done. */
    public static final java.util.List<String> TRAINED_STAGES = java.util.List.of("cls", "c2am", "irn", "seg");

    /** "roundT". */
    public static String roundName(int t) { return "round" + t; }

    /** RUN/roundT. */
    public static Path roundDir(Path run, int t) { return run.resolve(roundName(t)); }

    /** RUN/roundT/STAGE. */
    public static Path stageDir(Path run, int t, String stage) { return roundDir(run, t).resolve(stage); }

    /** "roundT/STAGE", the form --from and --until take. */
    public static String at(int t, String stage) { return roundName(t) + "/" + stage; }

    /** T of a folder name "roundT", or -1 for any other name. */
    public static int roundOf(String name) {
        Matcher m = ROUND.matcher(name);
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** T of a folder RUN/roundT, or -1. */
    public static int roundOf(Path dir) {
        Path name = dir.getFileName();
        return name == null ? -1 : roundOf(name.toString());
    }

    /** A file directly inside a stage folder of a run, RUN/roundT/STAGE/FILE (RUN absolute). */
    public record StageFile(Path run, int round, String stage) {
        /** "roundT/STAGE". */
        public String at() { return RunLayout.at(round, stage); }
    }

    /** Where file lies when it is directly inside RUN/roundT/STAGE/, else null. */
    public static StageFile stageOf(Path file) {
        Path stage = file.toAbsolutePath().normalize().getParent();
        return stage == null ? null : stageFolder(stage);
    }

    /** The run, round and stage of dir when it is a stage folder RUN/roundT/STAGE, else null. */
    public static StageFile stageFolder(Path dir) {
        Path stage = dir.toAbsolutePath().normalize(), round = stage.getParent();
        if (round == null || round.getParent() == null || stage.getFileName() == null) return null;
        int t = roundOf(round);
        return t < 0 ? null : new StageFile(round.getParent(), t, stage.getFileName().toString());
    }

    /** RUN's roundT folders in round order (round10 after round9); none when RUN does not exist. */
    public static List<Path> roundDirs(Path run) throws IOException {
        if (!Files.isDirectory(run)) return List.of();
        try (Stream<Path> s = Files.list(run)) {
            return s.filter(d -> roundOf(d) >= 0 && Files.isDirectory(d)).sorted(Comparator.comparingInt(RunLayout::roundOf)).toList();
        }
    }
}
