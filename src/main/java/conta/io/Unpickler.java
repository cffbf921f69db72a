package conta.io;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A restricted interpreter of Python pickles (protocols 0-5) that only builds data: dict as LinkedHashMap, list as
 * ArrayList, tuple as fixed-size List, str, bytes, int as Long (BigInteger when wider), float as Double, bool, None
 * as null. Callables named by GLOBAL are checked against an allow-list before anything else happens, and calls
 * (REDUCE, NEWOBJ) are delegated to {@link Hooks} which builds plain Java values; nothing is ever executed.
 */
final class Unpickler {
    /** A module attribute named by GLOBAL / STACK_GLOBAL that passed the allow-list. */
    record Global(String module, String name) {
        String qualified() { return module + "." + name; }
    }

    interface Hooks {
        boolean allowed(String module, String name);

        Object persistentLoad(Object pid);

        /** REDUCE / NEWOBJ of an allowed global. */
        Object call(Global callable, List<Object> args);
    }

    private static final Object MARK = new Object();

    private final byte[] b;
    private final ByteBuffer le;
    private int p;
    private final String file;
    private final Hooks hooks;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    Unpickler(byte[] data, int start, String file, Hooks hooks) {
        this.b = data;
        this.le = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        this.p = start;
        this.file = file;
        this.hooks = hooks;
    }

    /** Position after the last STOP: the next pickle or raw data starts here. */
    int position() { return p; }

    private IllegalArgumentException bad(String msg) {
        return new IllegalArgumentException(file + ": " + msg + " at pickle offset " + p);
    }

    private void need(long n) {
        if (n < 0 || p + n > b.length) throw bad("truncated pickle");
    }

    private int u8() { need(1); return b[p++] & 0xff; }

    private int u16() { need(2); int v = le.getShort(p) & 0xffff; p += 2; return v; }

    private int i32() { need(4); int v = le.getInt(p); p += 4; return v; }

    private long i64() { need(8); long v = le.getLong(p); p += 8; return v; }

    private byte[] bytes(long n) {
        need(n);
        byte[] r = Arrays.copyOfRange(b, p, p + (int) n);
        p += (int) n;
        return r;
    }

    private String line() {
        int s = p;
        while (p < b.length && b[p] != '\n') p++;
        if (p >= b.length) throw bad("truncated pickle (unterminated text argument)");
        return new String(b, s, p++ - s, StandardCharsets.UTF_8);
    }

    private Object pop() {
        if (stack.isEmpty()) throw bad("pickle stack underflow");
        Object o = stack.removeLast();
        if (o == MARK) throw bad("unexpected MARK on the pickle stack");
        return o;
    }

    private Object top() {
        if (stack.isEmpty()) throw bad("pickle stack underflow");
        return stack.getLast();
    }

    /** Pops everything above the last MARK (and the mark). */
    private List<Object> popMark() {
        if (marks.isEmpty()) throw bad("no MARK on the pickle stack");
        int m = marks.removeLast();
        List<Object> items = new ArrayList<>(stack.subList(m + 1, stack.size()));
        stack.subList(m, stack.size()).clear();
        return items;
    }

    private Global global(String module, String name) {
        if (!hooks.allowed(module, name))
            throw new PthSecurityException("refusing to load " + file + ": pickle calls GLOBAL " + module + "." + name
                    + "; only tensors and state dicts are allowed");
        return new Global(module, name);
    }

    private static List<Object> tuple(List<Object> items) { return Arrays.asList(items.toArray()); }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o, String op) {
        if (o instanceof Map<?, ?> m) return (Map<Object, Object>) m;
        throw bad(op + " on a non-dict");
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o, String op) {
        if (o instanceof ArrayList<?> l) return (List<Object>) l;
        throw bad(op + " on a non-list");
    }

    private Object call(Object callable, Object args) {
        if (!(callable instanceof Global g)) throw bad("pickle calls a non-global object " + callable);
        if (!(args instanceof List<?> a)) throw bad("pickle call arguments are not a tuple");
        @SuppressWarnings("unchecked") List<Object> al = (List<Object>) a;
        return hooks.call(g, al);
    }

    /** Interprets opcodes up to and including STOP; returns the unpickled object. */
    Object load() {
        stack.clear();
        marks.clear();
        memo.clear();
        while (true) {
            int opAt = p;
            int op = u8();
            switch (op) {
                case 0x80 -> u8(); // PROTO
                case 0x95 -> i64(); // FRAME: a length hint only
                case '.' -> { return pop(); } // STOP
                case '(' -> { marks.add(stack.size()); stack.add(MARK); }
                case '0' -> pop();
                case '1' -> popMark();
                case '2' -> stack.add(top());
                case '}' -> stack.add(new LinkedHashMap<>());
                case ']' -> stack.add(new ArrayList<>());
                case ')' -> stack.add(List.of());
                case 0x8f -> stack.add(new ArrayList<>()); // EMPTY_SET: a set of plain values as a list
                case 0x90 -> { List<Object> items = popMark(); list(top(), "ADDITEMS").addAll(items); } // ADDITEMS
                case 0x91 -> stack.add(new ArrayList<>(popMark())); // FROZENSET
                case 'd' -> { // DICT
                    List<Object> kv = popMark();
                    Map<Object, Object> m = new LinkedHashMap<>();
                    for (int k = 0; k + 1 < kv.size(); k += 2) m.put(kv.get(k), kv.get(k + 1));
                    stack.add(m);
                }
                case 'l' -> stack.add(new ArrayList<>(popMark())); // LIST
                case 't' -> stack.add(tuple(popMark())); // TUPLE
                case 0x85 -> stack.add(Arrays.asList(pop())); // TUPLE1
                case 0x86 -> { Object y = pop(), x = pop(); stack.add(Arrays.asList(x, y)); }
                case 0x87 -> { Object z = pop(), y = pop(), x = pop(); stack.add(Arrays.asList(x, y, z)); }
                case 's' -> { Object v = pop(), k = pop(); dict(top(), "SETITEM").put(k, v); }
                case 'u' -> { // SETITEMS
                    List<Object> kv = popMark();
                    Map<Object, Object> m = dict(top(), "SETITEMS");
                    for (int k = 0; k + 1 < kv.size(); k += 2) m.put(kv.get(k), kv.get(k + 1));
                }
                case 'a' -> { Object v = pop(); list(top(), "APPEND").add(v); }
                case 'e' -> { List<Object> items = popMark(); list(top(), "APPENDS").addAll(items); }
                case 'X' -> stack.add(new String(bytes(i32() & 0xffffffffL), StandardCharsets.UTF_8)); // BINUNICODE
                case 0x8c -> stack.add(new String(bytes(u8()), StandardCharsets.UTF_8)); // SHORT_BINUNICODE
                case 0x8d -> stack.add(new String(bytes(i64()), StandardCharsets.UTF_8)); // BINUNICODE8
                case 'T' -> stack.add(new String(bytes(i32() & 0xffffffffL), StandardCharsets.ISO_8859_1)); // BINSTRING
                case 'U' -> stack.add(new String(bytes(u8()), StandardCharsets.ISO_8859_1)); // SHORT_BINSTRING
                case 'B' -> stack.add(bytes(i32() & 0xffffffffL)); // BINBYTES
                case 'C' -> stack.add(bytes(u8())); // SHORT_BINBYTES
                case 0x8e, 0x96 -> stack.add(bytes(i64())); // BINBYTES8, BYTEARRAY8
                case 'J' -> stack.add((long) i32()); // BININT
                case 'K' -> stack.add((long) u8()); // BININT1
                case 'M' -> stack.add((long) u16()); // BININT2
                case 0x8a -> stack.add(longLE(bytes(u8()))); // LONG1
                case 0x8b -> stack.add(longLE(bytes(i32() & 0xffffffffL))); // LONG4
                case 'I' -> { // INT (text); "00"/"01" are protocol-0 booleans
                    String s = line();
                    stack.add(s.equals("00") ? Boolean.FALSE : s.equals("01") ? Boolean.TRUE : parseLong(s));
                }
                case 'L' -> { String s = line(); stack.add(parseLong(s.endsWith("L") ? s.substring(0, s.length() - 1) : s)); }
                case 'F' -> { String s = line(); try { stack.add(Double.parseDouble(s)); } catch (NumberFormatException e) { throw bad("bad FLOAT " + s); } }
                case 'G' -> { need(8); stack.add(ByteBuffer.wrap(b, p, 8).order(ByteOrder.BIG_ENDIAN).getDouble()); p += 8; } // BINFLOAT
                case 'N' -> stack.add(null);
                case 0x88 -> stack.add(Boolean.TRUE);
                case 0x89 -> stack.add(Boolean.FALSE);
                case 'p' -> memo.put(parseLong(line()), top()); // PUT
                case 'q' -> memo.put((long) u8(), top()); // BINPUT
                case 'r' -> memo.put(i32() & 0xffffffffL, top()); // LONG_BINPUT
                case 0x94 -> memo.put((long) memo.size(), top()); // MEMOIZE
                case 'g' -> stack.add(memoGet(parseLong(line()))); // GET
                case 'h' -> stack.add(memoGet(u8())); // BINGET
                case 'j' -> stack.add(memoGet(i32() & 0xffffffffL)); // LONG_BINGET
                case 'c' -> { String m = line(); String n = line(); stack.add(global(m, n)); } // GLOBAL
                case 0x93 -> { // STACK_GLOBAL
                    Object n = pop(), m = pop();
                    if (!(m instanceof String ms) || !(n instanceof String ns)) throw bad("STACK_GLOBAL needs two strings");
                    stack.add(global(ms, ns));
                }
                case 'i' -> { // INST: class named inline, instantiated with the marked items
                    String m = line(), n = line();
                    Global g = global(m, n);
                    stack.add(call(g, tuple(popMark())));
                }
                case 'o' -> { // OBJ
                    List<Object> items = popMark();
                    if (items.isEmpty()) throw bad("OBJ without a class");
                    stack.add(call(items.getFirst(), tuple(items.subList(1, items.size()))));
                }
                case 'R' -> { Object args = pop(), fn = pop(); stack.add(call(fn, args)); } // REDUCE
                case 0x81 -> { Object args = pop(), cls = pop(); stack.add(call(cls, args)); } // NEWOBJ
                case 0x92 -> { // NEWOBJ_EX
                    Object kw = pop(), args = pop(), cls = pop();
                    if (kw instanceof Map<?, ?> km && !km.isEmpty()) throw bad("keyword arguments in NEWOBJ_EX are not supported");
                    stack.add(call(cls, args));
                }
                case 'b' -> pop(); // BUILD: object state (e.g. OrderedDict._metadata) is not needed
                case 'Q' -> stack.add(hooks.persistentLoad(pop())); // BINPERSID
                case 'P' -> stack.add(hooks.persistentLoad(line())); // PERSID
                case 0x82, 0x83, 0x84 -> throw new PthSecurityException("refusing to load " + file
                        + ": pickle uses the copyreg extension registry (EXT opcode), which can name any callable;"
                        + " only tensors and state dicts are allowed");
                default -> {
                    p = opAt;
                    throw bad(String.format("unsupported pickle opcode 0x%02x ('%s')", op, op >= 32 && op < 127 ? (char) op : '?'));
                }
            }
        }
    }

    private Object memoGet(long k) {
        if (!memo.containsKey(k)) throw bad("pickle refers to unknown memo entry " + k);
        return memo.get(k);
    }

    private Long parseLong(String s) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw bad("bad integer '" + s + "'");
        }
    }

    /** Little-endian two's complement integer of any width; Long when it fits. */
    static Object longLE(byte[] le) {
        if (le.length == 0) return 0L;
        byte[] be = new byte[le.length];
        for (int k = 0; k < le.length; k++) be[k] = le[le.length - 1 - k];
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }
}
