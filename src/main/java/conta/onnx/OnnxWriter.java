package conta.onnx;

import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

/**
 * Serialises an {@link OnnxGraph} as an ONNX ModelProto with protobuf-java's {@link CodedOutputStream}. The field
 * numbers are those of onnx/onnx.proto (checked against onnx 1.23's copy): each message is built into a byte array
 * and nested as a length-delimited field, the way protobuf encodes sub-messages. Repeated scalars are written
 * unpacked, onnx.proto being proto2.
 */
final class OnnxWriter {
    private OnnxWriter() { }

    /** ONNX IR version 8 (onnx.proto IR_VERSION_2021_7_30): enough for opset 17 and read by every recent runtime. */
    static final long IR_VERSION = 8;

    // TensorProto.DataType
    static final int FLOAT = 1, INT64 = 7, DOUBLE = 11;
    // AttributeProto.AttributeType
    private static final int ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_STRING = 3, ATTR_INTS = 7;

    /** Writes ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, doc_string = 6, graph = 7,
     *  opset_import = 8 (OperatorSetIdProto: domain = 1, version = 2), metadata_props = 14. */
    static void write(OutputStream out, OnnxGraph g, int opset, String producerVersion, String doc, Map<String, String> meta) throws IOException {
        CodedOutputStream c = CodedOutputStream.newInstance(out, 1 << 16);
        c.writeInt64(1, IR_VERSION);
        c.writeString(2, "conta");
        c.writeString(3, producerVersion);
        if (doc != null) c.writeString(6, doc);
        c.writeByteArray(7, graph(g));
        c.writeByteArray(8, message(m -> {
            m.writeString(1, "");
            m.writeInt64(2, opset);
        }));
        for (var e : meta.entrySet()) c.writeByteArray(14, stringEntry(e.getKey(), e.getValue()));
        c.flush();
    }

    /** GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12. */
    private static byte[] graph(OnnxGraph g) throws IOException {
        return message(c -> {
            for (OnnxGraph.Node n : g.nodes) c.writeByteArray(1, node(n));
            c.writeString(2, "conta");
            for (OnnxGraph.Constant k : g.constants.values()) c.writeByteArray(5, tensor(k));
            for (OnnxGraph.Port p : g.inputs) c.writeByteArray(11, valueInfo(p));
            for (OnnxGraph.Port p : g.outputs) c.writeByteArray(12, valueInfo(p));
        });
    }

    /** NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5. */
    private static byte[] node(OnnxGraph.Node n) throws IOException {
        return message(c -> {
            for (String s : n.inputs) c.writeString(1, s);
            for (String s : n.outputs) c.writeString(2, s);
            c.writeString(3, n.outputs.getFirst());
            c.writeString(4, n.op);
            for (var a : n.attrs.entrySet()) c.writeByteArray(5, attribute(a.getKey(), a.getValue()));
        });
    }

    /** AttributeProto: name = 1, f = 2, i = 3, s = 4, ints = 8, type = 20. */
    private static byte[] attribute(String name, Object v) throws IOException {
        return message(c -> {
            c.writeString(1, name);
            switch (v) {
                case Float f -> { c.writeFloat(2, f); c.writeEnum(20, ATTR_FLOAT); }
                case Long i -> { c.writeInt64(3, i); c.writeEnum(20, ATTR_INT); }
                case Integer i -> { c.writeInt64(3, i); c.writeEnum(20, ATTR_INT); }
                case String s -> { c.writeString(4, s); c.writeEnum(20, ATTR_STRING); }
                case long[] is -> { for (long i : is) c.writeInt64(8, i); c.writeEnum(20, ATTR_INTS); }
                default -> throw new IllegalArgumentException("attribute " + name + ": unsupported value " + v);
            }
        });
    }

    /** TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian). */
    private static byte[] tensor(OnnxGraph.Constant k) throws IOException {
        return message(c -> {
            for (long d : k.dims()) c.writeInt64(1, d);
            c.writeInt32(2, k.floats() != null ? FLOAT : k.longs() != null ? INT64 : DOUBLE);
            c.writeString(8, k.name());
            ByteBuffer b;
            if (k.floats() != null) {
                b = ByteBuffer.allocate(k.floats().length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(k.floats());
            } else if (k.longs() != null) {
                b = ByteBuffer.allocate(k.longs().length * 8).order(ByteOrder.LITTLE_ENDIAN);
                b.asLongBuffer().put(k.longs());
            } else {
                b = ByteBuffer.allocate(k.doubles().length * 8).order(ByteOrder.LITTLE_ENDIAN);
                b.asDoubleBuffer().put(k.doubles());
            }
            c.writeByteArray(9, b.array());
        });
    }

    /** ValueInfoProto: name = 1, type = 2 (TypeProto: tensor_type = 1 (elem_type = 1, shape = 2 (TensorShapeProto: dim = 1
     *  (Dimension: dim_value = 1, dim_param = 2)))). */
    private static byte[] valueInfo(OnnxGraph.Port p) throws IOException {
        byte[] shape = message(c -> {
            for (Object d : p.dims())
                c.writeByteArray(1, message(dim -> {
                    if (d instanceof String s) dim.writeString(2, s);
                    else dim.writeInt64(1, ((Number) d).longValue());
                }));
        });
        byte[] tensorType = message(c -> {
            c.writeInt32(1, FLOAT);
            c.writeByteArray(2, shape);
        });
        byte[] type = message(c -> c.writeByteArray(1, tensorType));
        return message(c -> {
            c.writeString(1, p.name());
            c.writeByteArray(2, type);
        });
    }

    /** StringStringEntryProto: key = 1, value = 2. */
    private static byte[] stringEntry(String k, String v) throws IOException {
        return message(c -> {
            c.writeString(1, k);
            c.writeString(2, v);
        });
    }

    private interface Body { void write(CodedOutputStream c) throws IOException; }

    private static byte[] message(Body body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream c = CodedOutputStream.newInstance(bytes);
        body.write(c);
        c.flush();
        return bytes.toByteArray();
    }
}
