package conta.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The nvcc outputs packed in the jar: per module a cubin for sm_80 and sm_90 (ELF, CUDA machine type, the right SM in
 * e_flags, every entry's symbol) and PTX for compute_90 with the entries and parameter kinds the Java launcher passes.
 * Skipped where the build had no nvcc.
 */
class KernelFilesTest {
    static byte[] resource(String name) throws IOException {
        try (InputStream in = KernelFilesTest.class.getResourceAsStream(Kernels.DIR + name)) {
            return in == null ? null : in.readAllBytes();
        }
    }

    static String index() throws IOException {
        byte[] b = resource("index.txt");
        assumeTrue(b != null, "CUDA kernels were not built (no nvcc at build time)");
        return new String(b, StandardCharsets.US_ASCII);
    }

    @Test
    void everyModuleHasCubinsAndPtxWithItsEntries() throws IOException {
        String[] modules = index().trim().split("\\s+");
        assertTrue(modules.length >= 8, String.join(",", modules)); // conta.cu went: CONTA's attention runs on the autograd ops
        int entries = 0;
        for (String m : modules) {
            String ptx = new String(resource(m + ".compute_90.ptx"), StandardCharsets.US_ASCII);
            assertTrue(ptx.contains(".target sm_90"), m + " PTX target");
            Map<String, Ptx.Entry> es = Ptx.entries(ptx);
            assertTrue(!es.isEmpty(), m);
            for (String sm : new String[]{"sm_80", "sm_90"}) {
                byte[] elf = resource(m + "." + sm + ".cubin");
                assertNotNull(elf, m + "." + sm);
                assertEquals(0x7f, elf[0]);
                assertEquals("ELF", new String(elf, 1, 3, StandardCharsets.US_ASCII));
                assertEquals(190, (elf[18] & 0xff) | (elf[19] & 0xff) << 8, "e_machine EM_CUDA");
                int flags = (elf[48] & 0xff) | (elf[49] & 0xff) << 8 | (elf[50] & 0xff) << 16 | (elf[51] & 0xff) << 24;
                int arch = Integer.parseInt(sm.substring(3));
                assertTrue((flags & 0xff) == arch || ((flags >> 8) & 0xff) == arch || ((flags >> 16) & 0xff) == arch,
                        m + "." + sm + " e_flags 0x" + Integer.toHexString(flags));
                String text = new String(elf, StandardCharsets.ISO_8859_1);
                for (String e : es.keySet()) assertTrue(text.contains(".text." + e + "\0"), m + "." + sm + " lacks " + e);
            }
            entries += es.size();
        }
        assertTrue(entries >= 30, "entries: " + entries);
    }

    @Test
    void parameterKindsMatchWhatTheBackendPasses() throws IOException {
        index();
        Map<String, String> want = Map.ofEntries(
                Map.entry("fill_f32", "ppf"),
                Map.entry("add_scaled", "pfpfpp"),
                Map.entry("copy_channels_acc", "piipiiipi"),
                Map.entry("sgd_step", "pppfffip"),
                Map.entry("channel_dot", "pppiipi"),
                Map.entry("sigmoid_bce", "ppppdp"),
                Map.entry("cross_entropy", "ppppiipippp"),
                Map.entry("resize_bilinear_fwd", "ppiiiiiffii"),
                Map.entry("cam_seeds", "ppiipffi"),
                Map.entry("class_masks", "ppiiiiiii"),
                Map.entry("resize_crop_acc", "ppiiiiiff"),
                Map.entry("walk_affinity", "pppiiid"),
                Map.entry("walk_step", "ppppppiiii"),
                // session 19, opt-in: what CudaBackend.channelAffineBackward / maxPool2dBackward pass
                Map.entry("channel_affine_bwd", "ppppppiipipi"),
                Map.entry("channel_affine_bwd_finish", "pppii"),
                Map.entry("max_pool_argmax", "ppiiiiiiiiiiiii"),
                Map.entry("max_pool_bwd_idx", "pppiiiiiiiiiiiii"),
                Map.entry("relu_fwd_v4", "ppp"),
                Map.entry("relu_bwd_v4", "pppp"),
                Map.entry("add_scaled_v4", "pfpfpp"),
                Map.entry("scale_f32_v4", "pfpp"),
                Map.entry("channel_affine_relu", "ppppipp"),
                Map.entry("add_relu", "pppp"));
        for (var e : want.entrySet()) {
            String mod = switch (e.getKey()) {
                case "channel_dot", "channel_affine_bwd", "channel_affine_bwd_finish" -> "reduce";
                case "max_pool_argmax", "max_pool_bwd_idx" -> "pool";
                case "sigmoid_bce", "cross_entropy" -> "losses";
                case "resize_bilinear_fwd", "resize_crop_acc" -> "resize";
                case "cam_seeds", "class_masks" -> "cam";
                case "walk_step", "walk_affinity" -> "walk";
                default -> "elementwise";
            };
            Ptx.Entry got = Ptx.entries(new String(resource(mod + ".compute_90.ptx"), StandardCharsets.US_ASCII)).get(e.getKey());
            assertNotNull(got, e.getKey());
            assertEquals(e.getValue(), got.kinds(), e.getKey());
        }
    }
}
