package conta.pipeline;

import conta.config.Config;
import conta.config.ConfigKeys;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.error.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every bad value is refused by the key table (or a rule between keys) with the key, the value and the allowed values. */
class ConfigValidationTest {
    @TempDir Path tmp;

    /** key, bad value, the allowed values the error must state (issue 12's cases first). */
    static final String[][] BAD = {
        {"cls.blocks", "3,4", "has 2 entries but cls.arch = resnet50-os16 has 4 stages"},
        {"cls.batch", "0", "an integer in [1, 4096]"},
        {"cam.sweep", "0.6:0.05:0.01", "START:END:STEP with START < END, STEP > 0"},
        {"cam.sweep", "0.05:0.6:0", "START:END:STEP with START < END, STEP > 0"},
        {"cam.sweep", "0.05:0.6:-0.01", "STEP > 0"},
        {"cam.sweep", "0.05:0.6", "START:END:STEP"},
        {"cam.sweep", "0:1:0.00001", "at most 10000 steps"},
        {"cls.lr", "-1", "a number in (0, 100]"},
        {"cls.lr", "0", "a number in (0, 100]"},
        {"cls.lr", "NaN", "a number in (0, 100]"},
        {"seg.lr", "Infinity", "a number in (0, 100]"},
        {"conta.rounds", "-2", "an integer in [0, 100]"},
        {"irn.batch", "-3", "an integer in [1, 4096]"},
        {"seg.batch", "1.5", "an integer in [1, 4096]"},
        {"cls.epochs", "0", "an integer in [1, 100000]"},
        {"seg.iters", "99999999999", "an integer in [1, 100000000]"},
        {"cls.strides", "1,2,3,1", "comma-separated integers, each in [1, 2]"},
        {"cls.strides", "1,2,2", "has 3 entries but cls.arch = resnet50-os16 has 4 stages"},
        {"irn.blocks", "3,4,6", "has 3 entries but irn.arch = resnet50 has 4 stages"},
        {"seg.blocks", "3,4,23,3,3", "must be auto, or 4 comma-separated integers"},
        {"cls.resize_long", "640,320", "LOW,HIGH integers with LOW <= HIGH"},
        {"irn.scale", "0,1.5", "LOW,HIGH numbers with LOW <= HIGH, each in (0, 16]"},
        {"cam.scales", "1.0,-0.5", "each in (0, 8]"},
        {"cam.scales", "", "one or more comma-separated numbers"},
        {"cam.bg_threshold", "1.5", "a number in [0, 1]"},
        {"ir.bg_threshold", "0.5", "keep ir.bg_threshold <= ir.fg_threshold"},
        {"ir.crf_gt_prob", "1", "a number in (0, 1)"},
        {"cls.momentum", "1", "a number in [0, 1)"},
        {"cls.frozen_stages", "5", "an integer in [0, 4]"},
        {"rw.exp_times", "40", "an integer in [0, 20]"},
        {"seg.checkpoint_every", "0", "an integer >= 1"},
        {"method", "contta", "cam | conta | c2am | conta+c2am"},
        {"device", "gpu", "cpu | cuda | cuda:N | auto"},
        {"cls.arch", "vgg16", "resnet18 | resnet34"},
        {"seg.arch", "deeplabv3", "deeplabv2-resnet101"},
        {"cls.weights", "no/such/file.pth", "imagenet | none | the path of an existing"},
        {"irn.weights", "", "imagenet | none | cls | the path"},
        {"cls.input", "bgr", "auto | imagenet | caffe"},
        {"seg.crf", "maybe", "true or false"},
        {"conta.blocks", "6", "2, 3, 4 or 5"},
        {"c2am.aggregation", "median", "mean | max | lse"},
        {"data.workers", "0", "an integer in [1, 256]"},
        {"data.train", "my split", "a split name"},
        {"seed", "1e3", "an integer"},
        {"report.overlays", "-1", "an integer in [0, 10000]"},
        {"irn.crop", "64", "too small for irn.radius = 10: the boundary branch's pairs need a stride-4 grid wider than 2 * (irn.radius - 1) = 18 "
                + "cells and irn.crop 64 gives 16; set irn.crop to at least 73, or irn.radius to at most 8"},
        {"irn.radius", "1", "an integer in [2, 64]"},
        {"rw.radius", "1", "an integer in [2, 32]"},
    };

    @Test
    void everyBadValueIsRefusedNamingKeyValueAndRange() {
        for (String[] b : BAD) {
            Config c = new Config();
            UserError e = assertThrows(UserError.class, () -> {
                c.set(b[0], b[1]);
                c.validate();
            }, b[0] + "=" + b[1]);
            String m = e.getMessage();
            assertTrue(m.contains(b[0]), "names the key: " + m);
            assertTrue(m.contains(b[1].strip()), "names the value: " + m);
            assertTrue(m.contains(b[2]), "'" + b[2] + "' in: " + m);
        }
    }

    @Test
    void theTableAcceptsEveryDefaultAndTheReferenceEdges() {
        assertDoesNotThrow(() -> new Config().validate());
        Config c = new Config();
        String[] ok = {"cls.batch=1", "conta.rounds=0", "cam.sweep=0:1:0.5", "cls.lr=100", "cls.momentum=0", "cls.blocks=1,1,1,1",
            "cls.arch=resnet18", "cls.blocks=2,2,2,2", "device=cuda:1", "ir.bg_threshold=0.30", "seg.crf=YES"};
        for (String kv : ok) c.applySets(List.of(kv));
        assertDoesNotThrow(c::validate);
        // the boundary net copying the classifier needs the same layers
        c.set("irn.weights", "cls");
        UserError e = assertThrows(UserError.class, c::validate);
        assertTrue(e.getMessage().contains("irn.arch = resnet50 differs from cls.arch = resnet18"), e.getMessage());
        c.applySets(List.of("cls.arch=resnet50-os16", "cls.blocks=3,4,6,3", "cls.width=32"));
        e = assertThrows(UserError.class, c::validate);
        assertTrue(e.getMessage().contains("irn.width = 64 differs from cls.width = 32"), e.getMessage());
    }

    /**
     * irn.crop against irn.radius is the boundary branch's own limit: the config accepts exactly the pairs for which
     * the affinity loss's path index fits the stride-4 grid of the crop, and that grid is the network's.
     */
    @Test
    void irnCropAndRadiusFollowTheBoundaryBranchsGrid() {
        Config c = new Config();
        for (int r = 2; r <= 64; r++)
            for (int crop : new int[]{16, 17, 8 * r - 12, 8 * r - 9, 8 * r - 8, 8 * r - 7, 8 * r - 6, 8 * r - 4, 8 * r + 5, 512}) {
                if (crop < 16) continue;
                c.set("irn.radius", Integer.toString(r));
                c.set("irn.crop", Integer.toString(crop));
                conta.wsss.irn.PathIndex pi = new conta.wsss.irn.PathIndex(r);
                int grid = (crop + 3) / 4;
                boolean fits;
                try {
                    pi.sourceRows(grid);
                    pi.sourceCols(grid);
                    fits = true;
                } catch (IllegalArgumentException e) {
                    fits = false;
                }
                if (fits) assertDoesNotThrow(c::validate, "r " + r + " crop " + crop);
                else {
                    UserError e = assertThrows(UserError.class, c::validate, "r " + r + " crop " + crop);
                    assertTrue(e.getMessage().contains("set irn.crop to at least " + (8 * r - 7)), e.getMessage());
                }
            }
        c = PipelineResumeTest.tiny();
        try (conta.tensor.cpu.CpuBackend b = new conta.tensor.cpu.CpuBackend();
             conta.wsss.irn.BoundaryNet net = (conta.wsss.irn.BoundaryNet) conta.wsss.PseudoStage.boundarySpec(c).build(b, 0);
             conta.autograd.Tape tape = conta.autograd.Tape.open(false)) {
            for (int crop : new int[]{56, 57, 64, 66}) {
                conta.tensor.Tensor l = net.logits(conta.tensor.Tensor.of(b, new float[3 * crop * crop], 1, 3, crop, crop));
                assertEquals((crop + 3) / 4, l.dim(3), "the boundary grid of crop " + crop);
            }
        }
    }

    /** Two up-front rules found by a boundary-value probe: each value had passed and failed only mid-run. */
    @Test
    void aBatchLargerThanAnArrayAndACaffeBackboneForAnOs16BoundaryNetAreRefused() {
        Config c = new Config();
        c.set("seg.crop", "8192");
        c.set("seg.batch", "16"); // 16 x 3 x 8192^2 = 3.2e9 values: an int overflow in the loader
        UserError e = assertThrows(UserError.class, c::validate);
        assertTrue(e.getMessage().startsWith("config seg.batch = 16 crops of seg.crop = 8192 px make 3221225472 values"), e.getMessage());
        c.set("seg.batch", "10");
        assertDoesNotThrow(c::validate); // 2.0e9: still one array
        Config d = new Config();
        d.set("irn.weights", "cls");
        d.set("cls.arch", "resnet50-caffe"); // conv biases: its weights do not load into resnet50-os16
        e = assertThrows(UserError.class, d::validate);
        assertTrue(e.getMessage().contains("irn.arch = resnet50 differs from cls.arch = resnet50-caffe"), e.getMessage());
        d.set("cls.arch", "resnet50"); // the same layers, other strides
        d.set("irn.arch", "resnet50-os16");
        assertDoesNotThrow(d::validate);
    }

    @Test
    void theShippedRecipesPassTheTable() throws Exception {
        assertDoesNotThrow(() -> conta.cli.DemoCommand.demoConfig().validate());
        try (var s = Files.list(Path.of("models"))) {
            for (Path f : s.filter(p -> p.toString().endsWith(".conf")).toList()) {
                Config c = new Config();
                c.load(f);
                assertDoesNotThrow(c::validate, f.toString());
            }
        }
    }

    @Test
    void aKeySetTwiceInAFileNamesBothLines() throws Exception {
        Path f = tmp.resolve("dup.conf");
        Files.writeString(f, "cls.lr = 0.1\n# comment\ncls.batch = 8\n\ncls.lr = 0.2\n");
        UserError e = assertThrows(UserError.class, () -> new Config().load(f));
        assertEquals(f + ":5: cls.lr is set twice (lines 1 and 5); keep one of them", e.getMessage());
    }

    @Test
    void helpConfigComesFromTheTable() {
        String h = new Config().help();
        for (ConfigKeys.Key k : ConfigKeys.ALL) {
            String line = h.lines().filter(l -> l.startsWith(k.name() + " ")).findFirst().orElseThrow(() -> new AssertionError(k.name() + " missing"));
            assertTrue(line.contains(k.meaning()) && line.contains("[" + k.allowed() + "]"), line);
        }
        assertEquals(ConfigKeys.ALL.size() + 1, h.lines().count(), "a header line and one line per key");
        assertTrue(h.contains("cls.batch                  16                 batch size [an integer in [1, 4096]]"), h);
    }
}
