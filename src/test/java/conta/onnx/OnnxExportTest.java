package conta.onnx;

import static conta.onnx.OrtCheck.assertClose;
import static conta.onnx.OrtCheck.assertShape;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.google.protobuf.UnknownFieldSet;
import conta.autograd.F;
import conta.autograd.Tape;
import conta.models.DeepLabV2;
import conta.models.Models;
import conta.models.Network;
import conta.models.ResNet;
import conta.models.ResNetConfig;
import conta.nn.Init;
import conta.tensor.Backend;
import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exported models run in ONNX Runtime (an independent implementation of every op) give conta's outputs within 1e-4
 * relative, at input sizes and batch sizes other than the traced ones (the graph's sizes are dynamic).
 */
class OnnxExportTest {
    @TempDir Path dir;
    final Backend cpu = new CpuBackend();

    /** [N, H, W] of the checked inputs: none is a traced size ({@link OnnxExporter#TRACE_SIZES}). */
    static final int[][] SIZES = {{2, 64, 80}, {1, 97, 71}, {1, 54, 102}};

    private static Models.Options small(int width, int[] blocks, Integer classes, double[] scales, long seed) {
        return new Models.Options(width, blocks, classes, null, null, scales, seed);
    }

    /** conta's logits and CAM (ReLU of the 1x1 classifier over the features) for a CAM classifier. */
    private static Map<String, Tensor> logitsAndCam(ResNet r, Tensor x, Tensor ctx) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("logits", r.forward(x, ctx));
        Tensor feats = r.withContext(r.features(x, ctx), ctx);
        m.put("cam", F.relu(F.conv2d(feats, r.camWeight(), null, ConvSpec.of(1, 1, 0, 1))));
        return m;
    }

    private void compare(Network net, Path model, List<String> outputs, java.util.function.BiFunction<Tensor, int[], Map<String, Tensor>> fn) throws Exception {
        try (OrtSession s = OrtCheck.open(model)) {
            for (int[] sz : SIZES) {
                float[] img = OrtCheck.random(sz[0] * 3 * sz[1] * sz[2], sz[1] * 7L + sz[2]);
                Map<String, float[]> expected;
                try (Tensor x = Tensor.of(cpu, img, sz[0], 3, sz[1], sz[2])) {
                    expected = OrtCheck.conta(net, t -> fn.apply(t, sz), x);
                }
                Map<String, float[]> got = OrtCheck.run(s, Map.of("image", new long[]{sz[0], 3, sz[1], sz[2]}), Map.of("image", img));
                assertEquals(outputs, List.copyOf(got.keySet()), "ORT output names");
                for (String o : outputs) assertClose(expected.get(o), got.get(o), o + " at " + java.util.Arrays.toString(sz));
            }
        }
    }

    @Test
    void camClassifierResnet50Os16MatchesOrt() throws Exception {
        try (Network net = Models.build("resnet50-os16", small(8, null, null, null, 11L), cpu)) {
            OrtCheck.randomiseBatchNorm(net, 12);
            ResNet r = (ResNet) net;
            Path f = dir.resolve("cls.onnx");
            OnnxExporter.Result res = OnnxExporter.export(net, f, Map.of("conta.arch", "resnet50-os16"));
            assertEquals(List.of("image"), res.inputs());
            assertEquals(List.of("logits", "cam"), res.outputs());
            assertTrue(res.notes().isEmpty(), res.notes().toString());
            compare(net, f, List.of("logits", "cam"), (x, sz) -> logitsAndCam(r, x, null));
            // 64 x 80 at output stride 16: a 4 x 5 CAM grid, 20 classes
            try (OrtSession s = OrtCheck.open(f)) {
                OrtCheck.run(s, Map.of("image", new long[]{2, 3, 64, 80}), Map.of("image", OrtCheck.random(2 * 3 * 64 * 80, 5)));
                assertShape(new long[]{2, 20}, "logits");
                assertShape(new long[]{2, 20, 4, 5}, "cam");
            }
        }
    }

    @Test
    void deeplabV2WithMultiScaleMaxMatchesOrt() throws Exception {
        try (Network net = Models.build("deeplabv2-resnet101", small(8, new int[]{1, 2, 1, 1}, 5, new double[]{0.5, 0.75}, 21L), cpu)) {
            OrtCheck.randomiseBatchNorm(net, 22);
            Path f = dir.resolve("seg.onnx");
            OnnxExporter.Result res = OnnxExporter.export(net, f, Map.of());
            assertTrue(res.notes().isEmpty(), res.notes().toString());
            compare(net, f, List.of("logits"), (x, sz) -> Map.of("logits", net.forward(x)));
            // the three MSC branches read the same weights: stored once (they were three folded copies), so the
            // graph holds no more values than the network's own state (BN's four vectors fold into one bias)
            long state = net.module().exportState().values().stream().mapToLong(v -> v.data().length).sum();
            assertTrue(res.weights() <= state, res.weights() + " weights in the graph, " + state + " in the network");
        }
    }

    @Test
    void deeplabV2SingleScaleMatchesOrt() throws Exception {
        try (Network net = Models.build("deeplabv2-resnet101", small(8, new int[]{1, 1, 1, 1}, 4, new double[0], 31L), cpu)) {
            OrtCheck.randomiseBatchNorm(net, 32);
            Path f = dir.resolve("seg1.onnx");
            OnnxExporter.export(net, f, Map.of());
            compare(net, f, List.of("logits"), (x, sz) -> Map.of("logits", ((DeepLabV2) net).base(x)));
        }
    }

    @Test
    void torchvisionResnet18MatchesOrt() throws Exception {
        try (Network net = Models.build("resnet18", small(8, null, 10, null, 41L), cpu)) {
            OrtCheck.randomiseBatchNorm(net, 42);
            Path f = dir.resolve("r18.onnx");
            OnnxExporter.export(net, f, Map.of());
            compare(net, f, List.of("logits"), (x, sz) -> Map.of("logits", net.forward(x)));
        }
    }

    /** CONTA's context M joining at block 3 (widening layer3's first block) and block 5 (the head): a second input. */
    @Test
    void contextMapIsASecondInput() throws Exception {
        ResNetConfig c = Models.resnetConfig("resnet50-os16").withWidth(8).withBlocks(new int[]{1, 1, 2, 1}).withContext(3, 3, 5);
        try (ResNet net = new ResNet(cpu, c)) {
            Init.torchvision(net, 51);
            OrtCheck.randomiseBatchNorm(net, 52);
            Path f = dir.resolve("ctx.onnx");
            OnnxExporter.Result res = OnnxExporter.export(net, f, Map.of());
            assertEquals(List.of("image", "context"), res.inputs());
            try (OrtSession s = OrtCheck.open(f)) {
                int[][] cases = {{2, 64, 80, 6, 7}, {1, 71, 97, 5, 7}}; // N, H, W, context h, w (5 x 7 is the head's grid at 71 x 97, where the model skips the resize)
                for (int[] k : cases) {
                    float[] img = OrtCheck.random(k[0] * 3 * k[1] * k[2], k[1]), ctx = OrtCheck.random(k[0] * 3 * k[3] * k[4], k[2]);
                    Map<String, float[]> expected = new LinkedHashMap<>();
                    net.train(false);
                    try (Tape t = Tape.open(false)) {
                        Tensor x = Tape.track(Tensor.of(cpu, img, k[0], 3, k[1], k[2])), m = Tape.track(Tensor.of(cpu, ctx, k[0], 3, k[3], k[4]));
                        logitsAndCam(net, x, m).forEach((n, v) -> expected.put(n, v.toArray()));
                    }
                    Map<String, float[]> got = OrtCheck.run(s, Map.of("image", new long[]{k[0], 3, k[1], k[2]}, "context", new long[]{k[0], 3, k[3], k[4]}),
                            Map.of("image", img, "context", ctx));
                    for (String o : List.of("logits", "cam")) assertClose(expected.get(o), got.get(o), o + " with context " + java.util.Arrays.toString(k));
                }
            }
        }
    }

    /** ORT loads the model; its opset import (decoded by protobuf's generic parser), names and dynamic dims are as declared. */
    @Test
    void declaresOpsetNamesAndDynamicSizes() throws Exception {
        try (Network net = Models.build("resnet50-os16", small(8, new int[]{1, 1, 1, 1}, 3, null, 61L), cpu)) {
            Path f = dir.resolve("m.onnx");
            OnnxExporter.export(net, f, Map.of("conta.arch", "resnet50-os16"));
            UnknownFieldSet model = UnknownFieldSet.parseFrom(Files.readAllBytes(f));
            UnknownFieldSet opset = UnknownFieldSet.parseFrom(model.getField(8).getLengthDelimitedList().getFirst()); // ModelProto.opset_import
            assertEquals(List.of((long) OnnxExporter.OPSET), opset.getField(2).getVarintList()); // OperatorSetIdProto.version
            assertTrue(OnnxExporter.OPSET >= 13);
            try (OrtSession s = OrtCheck.open(f)) {
                assertEquals(List.of("image"), List.copyOf(s.getInputNames()));
                assertEquals(List.of("logits", "cam"), List.copyOf(s.getOutputNames()));
                TensorInfo in = (TensorInfo) s.getInputInfo().get("image").getInfo();
                assertEquals("[-1, 3, -1, -1]", java.util.Arrays.toString(in.getShape()));
                assertEquals(ai.onnxruntime.OnnxJavaType.FLOAT, in.type);
                assertEquals("conta", s.getMetadata().getProducerName());
                assertEquals("resnet50-os16", s.getMetadata().getCustomMetadataValue("conta.arch").orElse(null));
                for (int[] hw : new int[][]{{40, 56}, {129, 65}}) { // two sizes, output stride 16
                    OrtCheck.run(s, Map.of("image", new long[]{1, 3, hw[0], hw[1]}), Map.of("image", OrtCheck.random(3 * hw[0] * hw[1], hw[0])));
                    assertShape(new long[]{1, 3, (hw[0] + 15) / 16, (hw[1] + 15) / 16}, "cam");
                }
            }
        }
    }
}
