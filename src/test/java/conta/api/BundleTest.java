package conta.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.data.Preprocess;
import conta.error.UserError;
import conta.image.Palette;
import conta.io.Json;
import conta.config.Config;
import conta.wsss.Bundle;
import conta.wsss.ClassifierStage;
import conta.wsss.ModelSpec;
import conta.wsss.PseudoStage;
import conta.wsss.SegStage;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Bundle descriptions: the reference recipes' architectures written out with the values of their papers' code
 * (deeplab-pytorch's DeepLab-v2 at output stride 8, IRNet's resnet50 at 16), a JSON round trip that rebuilds the same
 * spec, and the pipeline writing a description into every stage model.
 */
class BundleTest {
    @SuppressWarnings("unchecked")
    @Test
    void defaultRecipeDescriptionsHoldThePapersArchitectures() {
        Config c = new Config();
        Bundle seg = Bundle.of(c, "seg", SegStage.spec(c, 21), Palette.VOC_CLASSES);
        Map<String, Object> j = Json.parseObject(Json.write(seg.toJson()));
        Map<String, Object> bb = (Map<String, Object>) ((Map<String, Object>) j.get("model")).get("backbone");
        assertEquals(List.of(3L, 4L, 6L, 3L), bb.get("blocks")); // seg.blocks=auto: the depth of the default ImageNet ResNet-50 weights
        assertEquals(List.of(1L, 2L, 1L, 1L), bb.get("strides"));
        assertEquals(List.of(1L, 1L, 2L, 4L), bb.get("dilations"));
        assertEquals(8L, bb.get("output_stride"));
        assertEquals(true, bb.get("stride_on_1x1"));
        assertEquals(1e-3, ((Number) bb.get("bn_eps")).doubleValue(), 0.0, "the npm ImageNet ResNet's 1e-3, not the float's double 0.0010000000474974513");
        c.set("seg.weights", "none"); // DeepLab-v2's ResNet-101, torchvision BN
        Map<String, Object> none = Json.parseObject(Json.write(Bundle.of(c, "seg", SegStage.spec(c, 21), Palette.VOC_CLASSES).toJson()));
        assertEquals(1e-5, ((Number) ((Map<String, Object>) ((Map<String, Object>) none.get("model")).get("backbone")).get("bn_eps")).doubleValue(), 0.0,
                "docs/bundles.md's 1e-05, not the float's double 9.999999747378752e-06");
        assertEquals(List.of(1.0, 0.5, 0.75), ((List<Object>) ((Map<String, Object>) j.get("inference")).get("scales")).stream()
                .map(o -> ((Number) o).doubleValue()).toList());
        assertEquals(false, ((Map<String, Object>) j.get("inference")).get("flip"));
        assertEquals(67.0, ((Number) ((Map<String, Object>) j.get("crf")).get("bilat_sxy")).doubleValue());
        // the input the pipeline fed this network (Backbones.input: seg.input=auto follows seg.weights=imagenet), even
        // though ResNet-101 blocks start from random weights: a bundle records what was trained, not what would be ideal
        assertEquals("caffe", j.get("input"));
        assertEquals(List.of(128L, 0L, 0L), ((List<Object>) j.get("palette")).get(1), "VOC aeroplane colour");

        Bundle cls = Bundle.of(c, "cls", ModelSpec.classifier(ClassifierStage.config(c, 20, 0)), Palette.VOC_CLASSES);
        assertEquals(16, cls.spec().backbone().outputStride(), "IRNet's resnet50 at output stride 16");
        assertEquals(Preprocess.CAFFE, cls.input(), "the npm ImageNet weights want Caffe input");
        assertArrayEquals(new double[]{1.0, 0.5, 1.5, 2.0}, cls.scales());
        assertTrue(cls.flip());
        assertTrue(cls.spec().backbone().convBias(), "Keras layout of the npm weights");
    }

    @Test
    void jsonRoundTripRebuildsTheSameSpec() {
        Config c = new Config();
        c.set("conta.blocks", "3,5");
        for (Bundle b : new Bundle[]{
                Bundle.of(c, "seg", SegStage.spec(c, 21), Palette.VOC_CLASSES),
                Bundle.of(c, "cls", ModelSpec.classifier(ClassifierStage.config(c, 20, 4)), Palette.VOC_CLASSES),
                Bundle.of(c, "irn", PseudoStage.boundarySpec(c), Palette.VOC_CLASSES)}) {
            Bundle back = Bundle.fromJson(Json.parseObject(Json.write(b.toJson())), "test");
            assertEquals(b.spec(), back.spec(), b.stage());
            assertEquals(b.spec().backbone().toString(), back.spec().backbone().toString());
            assertEquals(b.spec().backbone().bnEps(), back.spec().backbone().bnEps());
            assertEquals(b.classNames(), back.classNames());
            assertArrayEquals(b.palette(), back.palette());
            assertEquals(b.input(), back.input());
            assertArrayEquals(b.scales(), back.scales());
            assertEquals(b.crf(), back.crf());
        }
        Bundle cls = Bundle.of(c, "cls", ModelSpec.classifier(ClassifierStage.config(c, 20, 4)), Palette.VOC_CLASSES);
        assertTrue(cls.needsContext());
        assertArrayEquals(new int[]{3, 5}, cls.spec().backbone().contextBlocks());
    }

    @Test
    void malformedOrNewerDescriptionsAreUserErrors() {
        Config c = new Config();
        Map<String, Object> j = Bundle.of(c, "seg", SegStage.spec(c, 21), Palette.VOC_CLASSES).toJson();
        j.put("format_version", 7);
        var e = assertThrows(UserError.class, () -> Bundle.fromJson(j, "m.safetensors"));
        assertTrue(e.getMessage().contains("format version 7") && e.getMessage().contains("m.safetensors"), e.getMessage());
        j.put("format_version", 1);
        j.remove("model");
        e = assertThrows(UserError.class, () -> Bundle.fromJson(j, "m.safetensors"));
        assertTrue(e.getMessage().contains("'model'"), e.getMessage());
    }

    @Test
    void everyStageModelThePipelineWritesIsABundle() throws Exception {
        for (String s : new String[]{"cls", "irn", "seg"}) {
            Bundle b = Bundle.readMeta(TinyRun.out().resolve("round0").resolve(s).resolve("model.safetensors"));
            assertNotNull(b, s + " carries its description");
            assertEquals(s, b.stage());
            assertEquals(8, b.spec().backbone().width(), "the tiny recipe's width");
        }
    }
}
