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

    /**
     * Merges constants of equal type, dims and values into the first of them, renaming the nodes' inputs. The trace
     * records a parameter each time the forward reads it, and folds batch norm per read: DeepLab-v2's MSC runs the
     * backbone once per scale, so its export held every weight three times (6.6 MB for a 2.6 MB bundle).
     */
    void dedupeConstants() {
        Map<Object, String> first = new java.util.HashMap<>();
        Map<String, String> rename = new java.util.HashMap<>();
        Set<String> ports = new HashSet<>();
        for (Port p : outputs) ports.add(p.name());
        for (Constant c : constants.values()) {
            if (ports.contains(c.name())) continue;
            Object key = List.of(java.util.Arrays.toString(c.dims()),
                    c.floats() != null ? "f" + java.util.Arrays.hashCode(c.floats()) : c.longs() != null ? "l" + java.util.Arrays.hashCode(c.longs())
                            : "d" + java.util.Arrays.hashCode(c.doubles()));
            String kept = first.get(key);
            if (kept != null && sameValues(constants.get(kept), c)) rename.put(c.name(), kept);
            else if (kept == null) first.put(key, c.name());
        }
        if (rename.isEmpty()) return;
        for (Node n : nodes) n.inputs.replaceAll(i -> rename.getOrDefault(i, i));
        constants.keySet().removeAll(rename.keySet());
    }

    /** Bit-for-bit equal values (floats compared by their bits, so -0 and NaN payloads stay apart). */
    private static boolean sameValues(Constant a, Constant b) {
        if (!java.util.Arrays.equals(a.dims(), b.dims())) return false;
        if (a.floats() != null && b.floats() != null) {
            if (a.floats().length != b.floats().length) return false;
            for (int i = 0; i < a.floats().length; i++) if (Float.floatToRawIntBits(a.floats()[i]) != Float.floatToRawIntBits(b.floats()[i])) return false;
            return true;
        }
        if (a.longs() != null && b.longs() != null) return java.util.Arrays.equals(a.longs(), b.longs());
        if (a.doubles() != null && b.doubles() != null) {
            if (a.doubles().length != b.doubles().length) return false;
            for (int i = 0; i < a.doubles().length; i++) if (Double.doubleToRawLongBits(a.doubles()[i]) != Double.doubleToRawLongBits(b.doubles()[i])) return false;
            return true;
        }
        return false;
    }

    /** Nodes reading the value. */
    List<Node> readers(String value) {
        List<Node> r = new ArrayList<>();
        for (Node n : nodes) if (n.inputs.contains(value)) r.add(n);
        return r;
    }
}
