package conta.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.synth.SynthGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands that read a finished run folder (predict --model RUN, export --run RUN, export-onnx --run RUN) take the
 * model of the newest finished stage (its done.json), and a run whose files were deleted or damaged is refused with
 * the pipeline command that recomputes them, never answered with an older round's model.
 */
class RunModelsTest {
    @TempDir static Path tmp;
    static Path data, conf, finished;

    /** A two-round CONTA run of RefusedRunTest's ~5 s recipe (round0, round1 with every stage finished). */
    @BeforeAll
    static void twoRounds() throws Exception {
        data = tmp.resolve("synth");
        SynthGenerator.generate(data, new SynthGenerator.Config(1, 8, 4, 64, 0.8));
        conf = tmp.resolve("two.conf");
        Files.writeString(conf, "method = conta\nconta.rounds = 1\n" + RefusedRunTest.TINY);
        finished = tmp.resolve("finished");
        ModelCommandErrorsTest.Result r = pipeline(finished);
        assertEquals(0, r.code(), r.err());
        for (String s : List.of("cls", "irn", "seg"))
            assertTrue(Files.isRegularFile(finished.resolve("round1").resolve(s).resolve("done.json")), "round1/" + s + " finished");
    }

    static ModelCommandErrorsTest.Result pipeline(Path out, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("pipeline", "--data", data.toString(), "--out", out.toString(), "--config", conf.toString()));
        a.addAll(List.of(extra));
        return ModelCommandErrorsTest.run(a.toArray(String[]::new));
    }

    /** A copy of the finished run to break. */
    static Path copy(String name) throws Exception { return RefusedRunTest.copyTree(finished, tmp.resolve(name)); }

    static ModelCommandErrorsTest.Result predict(Path run, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("predict", "--model", run.toString(), "--images", data.resolve("JPEGImages").toString(),
                "--out", tmp.resolve("pred-" + run.getFileName() + System.nanoTime()).toString()));
        a.addAll(List.of(extra));
        return ModelCommandErrorsTest.run(a.toArray(String[]::new));
    }

    static ModelCommandErrorsTest.Result export(Path run, String stage, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("export", "--run", run.toString(), "--stage", stage, "--out",
                tmp.resolve("x-" + System.nanoTime() + ".safetensors").toString()));
        a.addAll(List.of(extra));
        return ModelCommandErrorsTest.run(a.toArray(String[]::new));
    }

    static ModelCommandErrorsTest.Result onnx(Path run, String stage, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("export-onnx", "--run", run.toString(), "--stage", stage, "--out",
                tmp.resolve("x-" + System.nanoTime() + ".onnx").toString()));
        a.addAll(List.of(extra));
        return ModelCommandErrorsTest.run(a.toArray(String[]::new));
    }

    /** The recompute command every message names: this run's data folder (from inputs.json), OUT and the stage. */
    static String rerun(Path run, String at) {
        return "`conta pipeline --data " + data.toAbsolutePath().normalize() + " --out " + run + " --config " + run.resolve("config.json") + " --from " + at + "`";
    }

    /** Runs the command rerun(run, at) names, literally (the run's own config.json as --config). */
    static ModelCommandErrorsTest.Result runRerun(Path run, String at) {
        return ModelCommandErrorsTest.run("pipeline", "--data", data.toAbsolutePath().normalize().toString(), "--out", run.toString(), "--config",
                run.resolve("config.json").toString(), "--from", at);
    }

    // ------------------------------------------------------------------ defect A: a done stage without its model

    /** Was: round 0's model, exit 0, silently (the last round "that has a model file"). */
    @Test
    void aFinishedStageWithoutItsModelIsNamedNotReplacedByRound0s() throws Exception {
        Path run = copy("lost-models");
        for (String s : List.of("seg", "cls", "irn")) Files.delete(run.resolve("round1").resolve(s).resolve("model.safetensors"));
        for (String s : List.of("seg", "cls", "irn")) {
            String[] expect = {run.resolve("round1").resolve(s) + " has finished but its model.safetensors is missing", rerun(run, "round1/" + s),
                    "--round 0"};
            ErrorContractTest.userError(export(run, s), expect);
            if (!s.equals("irn")) ErrorContractTest.userError(onnx(run, s), expect);
        }
        ErrorContractTest.userError(predict(run), run.resolve("round1/seg") + " has finished", rerun(run, "round1/seg"), "--round 0");
        ErrorContractTest.userError(predict(run, "--round", "1"), rerun(run, "round1/seg"));
        // the way out the message offers, and the one it names first
        assertEquals(0, predict(run, "--round", "0").code());
        assertEquals(0, onnx(run, "seg", "--round", "0").code());
        ModelCommandErrorsTest.Result r = runRerun(run, "round1/cls");
        assertEquals(0, r.code(), r.err());
        for (String s : List.of("seg", "cls", "irn")) assertEquals(0, export(run, s).code(), s);
    }

    /** Was: round1/cls's classifier, as if C2AM had not run. */
    @Test
    void aFinishedC2amStageWithoutItsModelIsNamed() throws Exception {
        Path run = copy("lost-c2am");
        Files.createDirectories(run.resolve("round1/c2am")); // C2AM's stage as the pipeline leaves it, its model then deleted
        Files.copy(run.resolve("round1/cls/done.json"), run.resolve("round1/c2am/done.json"));
        ErrorContractTest.userError(export(run, "cls"), run.resolve("round1/c2am") + " has finished", rerun(run, "round1/c2am"), "--round 0");
        ErrorContractTest.userError(onnx(run, "cls"), run.resolve("round1/c2am") + " has finished", rerun(run, "round1/c2am"));
    }

    /** A stage still training (its model not written, or written without done.json) is not finished: the newest finished round serves. */
    @Test
    void anUnfinishedStageIsPassedOverAndNothingFinishedSaysSo() throws Exception {
        Path run = copy("unfinished");
        // killed while round 1's segmentation trains: no seg/done.json, no later stage (pred) yet
        Files.delete(run.resolve("round1/seg/done.json"));
        deleteTree(run.resolve("round1/pred"));
        assertEquals(0, export(run, "seg").code(), "round0's seg, round1's is not done");
        for (String t : List.of("round0", "round1")) {
            Files.deleteIfExists(run.resolve(t).resolve("seg/done.json"));
            Files.deleteIfExists(run.resolve(t).resolve("seg/model.safetensors"));
            deleteTree(run.resolve(t).resolve("pred"));
        }
        ModelCommandErrorsTest.Result r = export(run, "seg");
        ErrorContractTest.userError(r, "has no finished seg model", "let the pipeline finish that stage first");
        assertFalse(r.err().contains("marked done"), r.err());
    }

    /** A round the run does not have, or a negative one, is named as such (it was told to let the pipeline finish). */
    @Test
    void aRoundTheRunDoesNotHaveIsNamed() throws Exception {
        Path run = copy("rounds");
        ModelCommandErrorsTest.Result r = export(run, "seg", "--round", "7");
        ErrorContractTest.userError(r, "has no round 7 (its rounds: 0, 1)", "leave out --round");
        assertFalse(r.err().contains("let the pipeline finish"), r.err());
        ErrorContractTest.userError(export(run, "seg", "--round", "-1"), "--round -1", "numbered from 0");
    }

    // ------------------------------------------------------------------ defect C: a damaged model names the recompute

    @Test
    void aDamagedModelNamesThePipelineCommandThatRecomputesIt() throws Exception {
        Path run = copy("damaged");
        Path seg = run.resolve("round1/seg/model.safetensors"), cls = run.resolve("round1/cls/model.safetensors");
        byte[] b = Files.readAllBytes(seg);
        Files.write(seg, java.util.Arrays.copyOf(b, b.length / 2)); // cut off
        byte[] junk = new byte[4096];
        new java.util.Random(5).nextBytes(junk);
        Files.write(cls, junk); // random bytes
        for (ModelCommandErrorsTest.Result r : List.of(predict(run), export(run, "seg"), onnx(run, "seg")))
            ErrorContractTest.userError(r, seg + " is damaged", "recompute it with " + rerun(run, "round1/seg"));
        for (ModelCommandErrorsTest.Result r : List.of(export(run, "cls"), onnx(run, "cls")))
            ErrorContractTest.userError(r, cls + " is damaged", "recompute it with " + rerun(run, "round1/cls"));
        ModelCommandErrorsTest.Result r = runRerun(run, "round1/cls");
        assertEquals(0, r.code(), r.err());
        assertEquals(0, predict(run).code());
        assertEquals(0, onnx(run, "cls").code());
    }

    // ------------------------------------------------------------------ defect H: a run that lost config.json

    /** Was: "is a folder but not a pipeline run ... give a bundle file". */
    @Test
    void aRunWithoutItsConfigJsonIsToldHowToGetItBack() throws Exception {
        Path run = copy("no-config");
        Files.delete(run.resolve("config.json"));
        String[] expect = {run + " has round folders but its config.json", "`conta pipeline --data " + data.toAbsolutePath().normalize() + " --out " + run + " --config " + run.resolve("report.json") + "`"};
        ErrorContractTest.userError(predict(run), expect);
        ErrorContractTest.userError(export(run, "seg"), expect);
        ErrorContractTest.userError(onnx(run, "cls"), expect);
        // what the message promises: the rerun keeps every finished stage and writes config.json again
        String model = RefusedRunTest.tree(run).get("round1/seg/model.safetensors");
        ModelCommandErrorsTest.Result r = ModelCommandErrorsTest.run("pipeline", "--data", data.toAbsolutePath().normalize().toString(), "--out", run.toString(),
                "--config", run.resolve("report.json").toString()); // as printed: the recipe kept in report.json
        assertEquals(0, r.code(), r.err());
        assertEquals(Files.readString(finished.resolve("config.json")), Files.readString(run.resolve("config.json")));
        assertEquals(model, RefusedRunTest.tree(run).get("round1/seg/model.safetensors"), "not recomputed");
        assertEquals(0, predict(run).code());
    }

    // ------------------------------------------------------------------ defect G: eval of a run's damaged outputs

    /** Was: "(re-export it as an 8-bit palette or grey PNG)" for a pseudo-mask, no fix at all for a CAM file. */
    @Test
    void evalOfARunsDamagedOutputNamesTheStageToRecompute() throws Exception {
        Path run = copy("eval-damaged");
        Path png = run.resolve("round0/pseudo/syn_00000.png"), npz = run.resolve("round0/cam/syn_00000.npz");
        Files.write(png, java.util.Arrays.copyOf(Files.readAllBytes(png), 60));
        Files.write(npz, java.util.Arrays.copyOf(Files.readAllBytes(npz), 60));
        String[] gt = {"--gt", data.toString(), "--split", "train"};
        ModelCommandErrorsTest.Result r = ModelCommandErrorsTest.run("eval", "--pred", run.resolve("round0/pseudo").toString(), gt[0], gt[1], gt[2], gt[3]);
        ErrorContractTest.userError(r, png.toString(), "round 0's pseudo stage, which is marked done", rerun(run, "round0/pseudo"));
        assertFalse(r.err().contains("re-export"), r.err());
        ErrorContractTest.userError(ModelCommandErrorsTest.run("eval", "--cam", run.resolve("round0/cam").toString(), gt[0], gt[1], gt[2], gt[3]),
                npz.toString(), "round 0's cam stage", rerun(run, "round0/cam"));
        // the user's choice of split is not damage: no recompute offered for predictions that were never made
        r = ModelCommandErrorsTest.run("eval", "--pred", run.resolve("round0/pseudo").toString(), gt[0], gt[1], gt[2], "val");
        ErrorContractTest.userError(r, "have no prediction");
        assertFalse(r.err().contains("--from"), r.err());
        // the same file outside a run keeps the reader's advice
        Path elsewhere = tmp.resolve("elsewhere");
        Files.createDirectories(elsewhere);
        Files.copy(png, elsewhere.resolve("syn_00000.png"));
        Path list = tmp.resolve("one.txt");
        Files.writeString(list, "syn_00000\n");
        ErrorContractTest.userError(ModelCommandErrorsTest.run("eval", "--pred", elsewhere.toString(), "--gt", data.toString(), "--list", list.toString()),
                "re-export it");
        // the fix named works
        r = runRerun(run, "round0/cam");
        assertEquals(0, r.code(), r.err());
        assertEquals(0, ModelCommandErrorsTest.run("eval", "--pred", run.resolve("round0/pseudo").toString(), gt[0], gt[1], gt[2], gt[3]).code());
    }

    /** CAMs of a CONTA round >= 1 classifier need its per-image context: the fix named is round 0's classifier, which works. */
    @Test
    void camsOfAContextClassifierPointToRound0() {
        ErrorContractTest.userError(predict(finished, "--cams"), "CONTA classifier", "predict --model " + finished.toAbsolutePath().normalize() + " --round 0");
        ModelCommandErrorsTest.Result r = predict(finished, "--cams", "--round", "0");
        assertEquals(0, r.code(), r.err());
    }

    /** A finished stage's whole folder deleted (its done.json too): the later stages of its round say it finished. */
    @Test
    void aDeletedStageFolderIsNotReplacedByAnOlderRoundsModel() throws Exception {
        Path run = copy("lost-folder");
        deleteTree(run.resolve("round1/cls"));
        ErrorContractTest.userError(export(run, "cls"), run.resolve("round1/cls") + " has finished", rerun(run, "round1/cls"), "--round 0");
    }

    /** A file deleted from a finished stage's folder: eval offers that stage's recompute beside its usual advice, which works. */
    @Test
    void evalOfARunWithADeletedOutputOffersItsRecompute() throws Exception {
        Path run = copy("eval-deleted");
        Files.delete(run.resolve("round0/pseudo/syn_00003.png"));
        String[] gt = {"--gt", data.toString(), "--split", "train"};
        ModelCommandErrorsTest.Result r = ModelCommandErrorsTest.run("eval", "--pred", run.resolve("round0/pseudo").toString(), gt[0], gt[1], gt[2], gt[3]);
        ErrorContractTest.userError(r, "have no prediction", "if files of this run were deleted", rerun(run, "round0/pseudo"));
        assertEquals(0, runRerun(run, "round0/pseudo").code());
        assertEquals(0, ModelCommandErrorsTest.run("eval", "--pred", run.resolve("round0/pseudo").toString(), gt[0], gt[1], gt[2], gt[3]).code());
    }

    /**
     * A finished stage's folder scored against more masks than it predicted (pred/ holds the val split; the mask folder
     * has every image): the message names the stage's split and how to score it, and offers no recompute (nothing was
     * deleted; recomputing adds no prediction). It said "of split all masks in ..." and offered --from round0/pred.
     */
    @Test
    void evalOfAStageFolderAgainstAllMasksNamesTheSplitItHolds() throws Exception {
        Path pred = finished.resolve("round0/pred");
        ModelCommandErrorsTest.Result r = ModelCommandErrorsTest.run("eval", "--pred", pred.toString(), "--gt", data.resolve("SegmentationClass").toString());
        ErrorContractTest.userError(r, "of the 12 masks in " + data.resolve("SegmentationClass"), "holds that stage's 4 predictions of split val",
                "--split val");
        assertFalse(r.err().contains("--from") || r.err().contains("of split all"), r.err());
        assertEquals(0, ModelCommandErrorsTest.run("eval", "--pred", pred.toString(), "--gt", data.toString(), "--split", "val").code());
    }

    /** A damaged config.json: the fix is the recipe report.json kept (a copy to restore from does not exist), and it works. */
    @Test
    void aDamagedConfigJsonIsRestoredFromTheReport() throws Exception {
        Path run = copy("damaged-config");
        Files.write(run.resolve("config.json"), new byte[]{(byte) 0xff, 0x7b});
        String report = run.resolve("report.json").toString();
        ErrorContractTest.userError(onnx(run, "seg"), "config.json is damaged", "delete it and rerun", "--config " + report);
        ErrorContractTest.userError(pipeline(run), "config.json is damaged", "--config " + report);
        Files.delete(run.resolve("config.json"));
        assertEquals(0, ModelCommandErrorsTest.run("pipeline", "--data", data.toAbsolutePath().normalize().toString(), "--out", run.toString(),
                "--config", report).code());
        assertEquals(Files.readString(finished.resolve("config.json")), Files.readString(run.resolve("config.json")));
    }

    /** round0/cls deleted in a 2-round CONTA run: the alternative offered is not round 1's classifier (it needs its context for CAMs). */
    @Test
    void aContextClassifierIsNotOfferedAsTheAlternative() throws Exception {
        Path run = copy("lost-cls0");
        Files.delete(run.resolve("round0/cls/model.safetensors"));
        ModelCommandErrorsTest.Result r = predict(run, "--cams", "--round", "0");
        ErrorContractTest.userError(r, run.resolve("round0/cls") + " has finished", rerun(run, "round0/cls"));
        assertFalse(r.err().contains("--round 1"), r.err());
    }

    static void deleteTree(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) return;
        try (var w = Files.walk(dir)) {
            for (Path q : w.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }
}
