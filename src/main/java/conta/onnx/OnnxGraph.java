package conta.onnx;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An ONNX graph under construction: nodes in execution (hence topological) order, constant tensors (initializers),
 * and the named graph inputs and outputs. {@link OnnxWriter} serialises it; {@link Tracer} fills it.
 */
final class OnnxGraph {
    /** One operator; attribute values are Long, long[], Float, String. */
    static final class Node {
        final String op;
        final List<String> inputs;
        final List<String> outputs;
        final Map<String, Object> attrs = new LinkedHashMap<>();

        Node(String op, List<String> inputs, List<String> outputs) {
            this.op = op;
            this.inputs = new ArrayList<>(inputs);
            this.outputs = new ArrayList<>(outputs);
        }

        Node attr(String name, Object v) {
            attrs.put(name, v);
            return this;
        }
    }

    /** A constant: float32 (floats), int64 (longs) or float64 (doubles), exactly one of them set. */
    record Constant(String name, long[] dims, float[] floats, long[] longs, double[] doubles) { }

    /** A graph input or output: float32 with each dimension a number or a symbolic name (dynamic). */
    record Port(String name, Object[] dims) { }

    final List<Node> nodes = new ArrayList<>();
    final Map<String, Constant> constants = new LinkedHashMap<>();
    final List<Port> inputs = new ArrayList<>();
    final List<Port> outputs = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private int counter;

    /** A name not used yet, from a preferred one (suffixed if taken). */
    String fresh(String preferred) {
        String n = preferred;
        while (!names.add(n)) n = preferred + "_" + (++counter);
        return n;
    }

    Node add(String op, List<String> in, String out) {
        Node n = new Node(op, in, List.of(out));
        nodes.add(n);
        return n;
    }

    String floats(String preferred, long[] dims, float[] v) {
        String n = fresh(preferred);
        constants.put(n, new Constant(n, dims, v, null, null));
        return n;
    }

    String longs(String preferred, long... v) {
        String n = fresh(preferred);
        constants.put(n, new Constant(n, new long[]{v.length}, null, v, null));
        return n;
    }

    String doubles(String preferred, double... v) {
        String n = fresh(preferred);
        constants.put(n, new Constant(n, new long[]{v.length}, null, null, v));
        return n;
    }

    /** Drops constants no node reads (e.g. conv weights replaced by their batch-norm-folded copies). */
    void pruneConstants() {
        Set<String> used = new HashSet<>();
        for (Node n : nodes) used.addAll(n.inputs);
        for (Port p : outputs) used.add(p.name());
        constants.keySet().retainAll(used);
    }

    /** Nodes reading the value. */
    List<Node> readers(String value) {
        List<Node> r = new ArrayList<>();
        for (Node n : nodes) if (n.inputs.contains(value)) r.add(n);
        return r;
    }
}
