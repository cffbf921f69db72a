package conta.pipeline;

import conta.config.Config;
import static org.junit.jupiter.api.Assertions.*;

import conta.error.UserError;
import conta.synth.SynthGenerator;
import conta.tensor.cpu.CpuBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --until stops after a stage with nothing later written; a full rerun resumes there; --from recomputes from a stage. */
class PipelineUntilTest {
    @TempDir static Path tmp;
    static Path data;

    @BeforeAll
    static void makeData() throws Exception {
        data = tmp.resolve("synth");
        SynthGenerator.generate(data, new SynthGenerator.Config(5, 24, 8, 64, 0.8));
    }

    static Map<String, Object> run(Config c, Path out, String from, String until) throws Exception {
        try (CpuBackend b = new CpuBackend()) {
            return Methods.run(c, data, out, b, new StageRange(StageRange.parse(from, "from"), StageRange.parse(until, "until")));
        }
    }

    @SuppressWarnings("unchecked")
    @Test
    void untilCamWritesTheCamStageOnlyAndAFullRerunResumesFromIt() throws Exception {
        Path o = tmp.resolve("until");
        Config c = PipelineResumeTest.tiny();
        Map<String, Object> r = run(c, o, null, "cam");
        assertEquals("round0/cam", r.get("stopped_after"));
        Path rd = o.resolve("round0");
        for (String d : new String[]{"cls/done.json", "cls/model.safetensors", "cam/done.json"}) assertTrue(Files.isRegularFile(rd.resolve(d)), d);
        try (var s = Files.list(rd.resolve("seeds"))) {
            assertEquals(24, s.count(), "a seed mask per training image");
        }
        for (String d : new String[]{"ir", "irn", "pseudo", "seg", "pred"}) assertFalse(Files.exists(rd.resolve(d)), d + " must not exist");
        assertFalse(Files.exists(o.resolve("report.json")));
        Map<String, Object> cam = (Map<String, Object>) ((Map<String, Object>) r.get("stages")).get("cam");
        assertNotNull(cam.get("miou"));

        // the full rerun keeps the classifier and CAMs (files untouched) and finishes the other stages
        FileTime model = Files.getLastModifiedTime(rd.resolve("cls/model.safetensors"));
        String camDone = Files.readString(rd.resolve("cam/done.json"));
        Map<String, Object> full = run(c, o, null, null);
        assertNull(full.get("stopped_after"));
        assertEquals(model, Files.getLastModifiedTime(rd.resolve("cls/model.safetensors")));
        assertEquals(camDone, Files.readString(rd.resolve("cam/done.json")));
        assertTrue(Files.isRegularFile(o.resolve("report.json")));
        assertEquals(((Map<String, Object>) ((Map<String, Object>) full.get("stages")).get("cam")).get("miou"), cam.get("miou"));

        // --from pseudo: removes pseudo, seg, pred and the report, and recomputes them to the same result
        String pseudoDone = Files.readString(rd.resolve("pseudo/done.json")).replaceAll("\"seconds\".*", "");
        FileTime irn = Files.getLastModifiedTime(rd.resolve("irn/model.safetensors"));
        Map<String, Object> again = run(c, o, "pseudo", "pseudo");
        assertEquals("round0/pseudo", again.get("stopped_after"));
        assertFalse(Files.exists(rd.resolve("seg")));
        assertFalse(Files.exists(o.resolve("report.json")));
        assertEquals(irn, Files.getLastModifiedTime(rd.resolve("irn/model.safetensors")), "the boundary net is kept");
        assertEquals(pseudoDone, Files.readString(rd.resolve("pseudo/done.json")).replaceAll("\"seconds\".*", ""));
    }

    /** Q2: a finished CONTA run goes on to more rounds, its rounds kept as they are; fewer rounds are refused. */
    @Test
    void moreContaRoundsKeepTheFinishedOnes() throws Exception {
        Path o = tmp.resolve("rounds");
        Config c = PipelineResumeTest.tiny();
        c.applySets(List.of("method=conta", "conta.rounds=1", "conta.confounder_source=pseudo"));
        run(c, o, null, "round1/cam");
        Path model = o.resolve("round1/cls/model.safetensors");
        FileTime before = Files.getLastModifiedTime(model);
        String camDone = Files.readString(o.resolve("round1/cam/done.json"));

        Config more = PipelineResumeTest.tiny();
        more.applySets(List.of("method=conta", "conta.rounds=2", "conta.confounder_source=pseudo"));
        Map<String, Object> r = run(more, o, null, "round2/cam");
        assertEquals("round2/cam", r.get("stopped_after"));
        assertEquals(before, Files.getLastModifiedTime(model), "round 1's classifier is kept");
        assertEquals(camDone, Files.readString(o.resolve("round1/cam/done.json")));
        assertTrue(Files.isRegularFile(o.resolve("round2/cam/done.json")));

        Config fewer = PipelineResumeTest.tiny();
        fewer.applySets(List.of("method=conta", "conta.rounds=1", "conta.confounder_source=pseudo"));
        var e = assertThrows(UserError.class, () -> run(fewer, o, null, null));
        assertTrue(e.getMessage().contains("conta.rounds 2 -> 1"), e.getMessage());
        assertTrue(Pipeline.moreRounds("conta.rounds", "3", "4"));
        assertFalse(Pipeline.moreRounds("conta.rounds", "3", "x"));
        assertFalse(Pipeline.moreRounds("seg.iters", "3", "4"));
    }

    @Test
    void badRangesAreUserErrors() throws Exception {
        var e = assertThrows(UserError.class, () -> StageRange.parse("cams", "until"));
        assertTrue(e.getMessage().contains("confounders, cls, c2am, cam, ir, irn, pseudo, seg, pred"), e.getMessage());
        assertEquals(new StageRange.Point(2, "cam"), StageRange.parse("round2/cam", "until"));
        assertEquals(new StageRange.Point(-1, "seg"), StageRange.parse("seg", "from"));
        assertThrows(UserError.class, () -> StageRange.parse("roundx/cam", "until"));
        Config c = PipelineResumeTest.tiny();
        e = assertThrows(UserError.class, () -> run(c, tmp.resolve("bad1"), null, "round1/cam"));
        assertTrue(e.getMessage().contains("1 round"), e.getMessage());
        e = assertThrows(UserError.class, () -> run(c, tmp.resolve("bad2"), null, "c2am"));
        assertTrue(e.getMessage().contains("c2am"), e.getMessage());
        e = assertThrows(UserError.class, () -> run(c, tmp.resolve("bad3"), null, "confounders"));
        assertTrue(e.getMessage().contains("round1/confounders"), e.getMessage());
        assertEquals(List.of("cam", "seeds"), StageRange.folders("cam"));
    }
}
