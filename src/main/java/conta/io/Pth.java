package conta.io;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * PyTorch {@code torch.save} state dicts, in the zip format (PyTorch >= 1.6: {@code PREFIX/data.pkl} plus one
 * {@code PREFIX/data/KEY} entry per storage) and the legacy format (five pickles and raw storages in one stream).
 * The pickle is read by a restricted {@link Unpickler}: only {@code collections.OrderedDict}, tensor/parameter
 * rebuild helpers and typed storage classes may be named; anything else raises {@link PthSecurityException}.
 */
public final class Pth {
    private static final Map<String, RawType> STORAGES = Map.of(
            "FloatStorage", RawType.F32, "DoubleStorage", RawType.F64, "HalfStorage", RawType.F16,
            "BFloat16Storage", RawType.BF16, "LongStorage", RawType.I64, "IntStorage", RawType.I32,
            "ByteStorage", RawType.U8, "BoolStorage", RawType.BOOL);
    private static final Set<String> CALLABLES = Set.of(
            "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state");
    /** torch.save's legacy format starts with this number pickled as a LONG1. */
    private static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);

    private Pth() { }

    private record StorageRef(String key, RawType type, long numel, long viewOffset) { }

    private record TensorRef(StorageRef storage, long offset, int[] size, long[] stride) { }

    /** Loads the tensors of a state dict (or of a checkpoint's {@code state_dict} / {@code model} entry) in file order. */
    public static LinkedHashMap<String, HostArray> load(Path file) throws IOException {
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            if (in.readNBytes(head, 0, 4) < 4) throw bad(file, "file is too short to be a PyTorch file");
        }
        return head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4 ? loadZip(file) : loadLegacy(file);
    }

    // ---------------- zip format ----------------

    private static LinkedHashMap<String, HostArray> loadZip(Path file) throws IOException {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            String pkl = null;
            boolean torchScript = false;
            for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                String n = en.nextElement().getName();
                if (n.endsWith("/constants.pkl") || n.contains("/code/")) torchScript = true;
                if (n.endsWith("data.pkl") && n.indexOf('/') == n.lastIndexOf('/') && (n.equals("data.pkl") || n.endsWith("/data.pkl"))) {
                    if (pkl != null) throw bad(file, "zip holds two data.pkl entries (" + pkl + ", " + n + ")");
                    pkl = n;
                }
            }
            if (torchScript)
                throw bad(file, "this is a TorchScript archive (torch.jit.save); save the weights with torch.save(model.state_dict(), path)");
            if (pkl == null) throw bad(file, "zip file has no data.pkl entry; not a torch.save archive");
            String prefix = pkl.substring(0, pkl.length() - "data.pkl".length());
            ZipEntry order = zip.getEntry(prefix + "byteorder");
            if (order != null) {
                String bo = new String(readEntry(zip, order, file), StandardCharsets.US_ASCII).trim();
                if (!bo.equals("little")) throw bad(file, "storages are " + bo + "-endian; re-save the file on a little-endian machine");
            }
            Map<String, StorageRef> refs = new HashMap<>();
            Object root = new Unpickler(readEntry(zip, zip.getEntry(pkl), file), 0, file.toString(), hooks(file, refs)).load();
            Map<String, ByteBuffer> cache = new HashMap<>();
            return tensors(file, root, key -> cache.computeIfAbsent(key, k -> {
                ZipEntry e = zip.getEntry(prefix + "data/" + k);
                if (e == null) throw bad(file, "storage '" + k + "' is missing from the zip (expected entry " + prefix + "data/" + k + ")");
                try {
                    return ByteBuffer.wrap(readEntry(zip, e, file)).order(ByteOrder.LITTLE_ENDIAN);
                } catch (IOException ex) {
                    throw new java.io.UncheckedIOException(ex);
                }
            }));
        } catch (java.util.zip.ZipException e) {
            throw bad(file, "corrupt zip archive (" + e.getMessage() + ")");
        } catch (java.io.UncheckedIOException e) { // from reading a storage inside the lambda above
            throw e.getCause();
        }
    }

    private static byte[] readEntry(ZipFile zip, ZipEntry e, Path file) throws IOException {
        if (e.getSize() > Integer.MAX_VALUE - 8) throw bad(file, "zip entry " + e.getName() + " is larger than 2 GB");
        try (InputStream in = zip.getInputStream(e)) {
            return in.readAllBytes();
        }
    }

    // ---------------- legacy format ----------------

    private static LinkedHashMap<String, HostArray> loadLegacy(Path file) throws IOException {
        if (Files.size(file) > Integer.MAX_VALUE - 8) throw bad(file, "legacy-format files over 2 GB are not supported; re-save with a current torch.save");
        byte[] all = Files.readAllBytes(file);
        Map<String, StorageRef> refs = new HashMap<>();
        Unpickler.Hooks hooks = hooks(file, refs);
        Object magic;
        Unpickler u = new Unpickler(all, 0, file.toString(), hooks);
        try {
            magic = u.load();
        } catch (PthSecurityException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw bad(file, "not a PyTorch file (neither a zip archive nor a legacy torch.save stream): " + e.getMessage());
        }
        if (!(magic instanceof BigInteger m) || !m.equals(LEGACY_MAGIC))
            throw bad(file, "not a PyTorch file: it is a pickle but lacks torch.save's magic number; only torch.save state dicts are supported");
        Object proto = u.load();
        if (!(proto instanceof Long pv) || pv != 1001) throw bad(file, "unsupported legacy torch.save protocol " + proto);
        Object sysInfo = u.load();
        if (sysInfo instanceof Map<?, ?> si && Boolean.FALSE.equals(si.get("little_endian")))
            throw bad(file, "saved on a big-endian machine; re-save it on a little-endian one");
        Object root = u.load();
        Object keys = u.load();
        if (!(keys instanceof List<?> keyList)) throw bad(file, "storage key list is missing");
        // Raw storages follow in key-list order, each as an int64 element count and the bytes.
        Map<String, ByteBuffer> storages = new HashMap<>();
        ByteBuffer le = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        long pos = u.position();
        for (Object k : keyList) {
            String key = String.valueOf(k);
            StorageRef ref = refs.get(key);
            if (ref == null) throw bad(file, "storage '" + key + "' is listed but no tensor uses it");
            if (pos + 8 > all.length) throw bad(file, "truncated file: storage '" + key + "' is missing");
            long numel = le.getLong((int) pos);
            long len = numel * ref.type().size;
            pos += 8;
            if (numel < 0 || pos + len > all.length) throw bad(file, "truncated file: storage '" + key + "' needs " + len + " bytes");
            storages.put(key, le.slice((int) pos, (int) len).order(ByteOrder.LITTLE_ENDIAN));
            pos += len;
        }
        return tensors(file, root, key -> {
            ByteBuffer bb = storages.get(key);
            if (bb == null) throw bad(file, "storage '" + key + "' is used by a tensor but not stored in the file");
            return bb;
        });
    }

    // ---------------- shared ----------------

    private static Unpickler.Hooks hooks(Path file, Map<String, StorageRef> refs) {
        return new Unpickler.Hooks() {
            @Override
            public boolean allowed(String module, String name) {
                return CALLABLES.contains(module + "." + name) || (module.equals("torch") && STORAGES.containsKey(name));
            }

            @Override
            public Object persistentLoad(Object pid) {
                // zip: ('storage', StorageType, key, location, numel); legacy adds view_metadata (view_key, offset, size)
                if (!(pid instanceof List<?> t) || t.size() < 5 || !"storage".equals(t.get(0)))
                    throw bad(file, "unsupported persistent id " + pid + " (a pickled module or non-tensor object?); save model.state_dict()");
                if (!(t.get(1) instanceof Unpickler.Global g) || !STORAGES.containsKey(g.name()))
                    throw bad(file, "unsupported storage type " + t.get(1));
                String key = String.valueOf(t.get(2));
                long numel = ((Number) t.get(4)).longValue();
                StorageRef ref = new StorageRef(key, STORAGES.get(g.name()), numel, 0);
                StorageRef prev = refs.putIfAbsent(key, ref);
                if (prev != null && prev.type() != ref.type()) throw bad(file, "storage '" + key + "' is used with two dtypes");
                if (t.size() > 5 && t.get(5) instanceof List<?> view && view.size() == 3)
                    return new StorageRef(key, ref.type(), numel, ((Number) view.get(1)).longValue());
                return ref;
            }

            @Override
            public Object call(Unpickler.Global g, List<Object> args) {
                switch (g.qualified()) {
                    case "collections.OrderedDict" -> {
                        Map<Object, Object> m = new LinkedHashMap<>();
                        if (!args.isEmpty() && args.getFirst() instanceof List<?> pairs)
                            for (Object pair : pairs) if (pair instanceof List<?> kv && kv.size() == 2) m.put(kv.get(0), kv.get(1));
                        return m;
                    }
                    case "torch._utils._rebuild_tensor_v2" -> {
                        if (args.size() < 4 || !(args.get(0) instanceof StorageRef s))
                            throw bad(file, "malformed _rebuild_tensor_v2 call " + args);
                        return new TensorRef(s, ((Number) args.get(1)).longValue() + s.viewOffset(),
                                toInts(file, args.get(2)), toLongs(file, args.get(3)));
                    }
                    case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
                        if (args.isEmpty()) throw bad(file, "malformed " + g.name() + " call");
                        return args.getFirst();
                    }
                    default -> throw bad(file, "unexpected call of " + g.qualified() + " in the pickle");
                }
            }
        };
    }

    private static long[] toLongs(Path file, Object o) {
        if (!(o instanceof List<?> l)) throw bad(file, "tensor size/stride is not a tuple: " + o);
        long[] r = new long[l.size()];
        for (int k = 0; k < r.length; k++) {
            if (!(l.get(k) instanceof Long v)) throw bad(file, "tensor size/stride holds " + l.get(k));
            r[k] = v;
        }
        return r;
    }

    private static int[] toInts(Path file, Object o) {
        long[] l = toLongs(file, o);
        int[] r = new int[l.length];
        for (int k = 0; k < r.length; k++) r[k] = Math.toIntExact(l[k]);
        return r;
    }

    private interface StorageSource {
        ByteBuffer bytes(String key);
    }

    private static LinkedHashMap<String, HostArray> tensors(Path file, Object root, StorageSource src) {
        if (root instanceof TensorRef) throw bad(file, "file holds a single tensor, not a state dict; save a dict {name: tensor}");
        if (!(root instanceof Map<?, ?> top))
            throw bad(file, "top-level object is " + describe(root) + ", expected a state dict; save model.state_dict()");
        Map<?, ?> sd = top;
        for (String wrapper : new String[]{"state_dict", "model"})
            if (top.get(wrapper) instanceof Map<?, ?> inner) { sd = inner; break; }
        LinkedHashMap<String, HostArray> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : sd.entrySet()) {
            if (e.getValue() instanceof TensorRef t) out.put(String.valueOf(e.getKey()), gather(file, String.valueOf(e.getKey()), t, src));
        }
        if (out.isEmpty()) {
            List<String> keys = new ArrayList<>();
            for (Object k : top.keySet()) keys.add(String.valueOf(k));
            throw bad(file, "no tensors found (top-level keys: " + keys + "); expected a state dict or a checkpoint with 'state_dict' or 'model'");
        }
        return out;
    }

    private static String describe(Object o) {
        if (o == null) return "None";
        if (o instanceof List<?>) return "a list/tuple";
        return "a " + o.getClass().getSimpleName();
    }

    /** Copies a possibly strided view out of its storage into a contiguous row-major array. */
    private static HostArray gather(Path file, String name, TensorRef t, StorageSource src) {
        int[] size = t.size();
        long[] stride = t.stride();
        if (stride.length != size.length) throw bad(file, "tensor '" + name + "' has " + size.length + " sizes but " + stride.length + " strides");
        int n = RawType.numel(size, file + ": tensor '" + name + "'");
        if (n == 0) return new HostArray(size, new float[0]);
        RawType type = t.storage().type();
        long last = t.offset();
        boolean contiguous = true;
        long expect = 1;
        for (int d = size.length - 1; d >= 0; d--) {
            if (stride[d] < 0) throw bad(file, "tensor '" + name + "' has a negative stride");
            last += (size[d] - 1) * stride[d];
            if (size[d] != 1 && stride[d] != expect) contiguous = false;
            expect *= size[d];
        }
        ByteBuffer bb = src.bytes(t.storage().key());
        long have = bb.limit() / type.size;
        if (t.offset() < 0 || last >= have)
            throw bad(file, "tensor '" + name + "' reads element " + last + " of storage '" + t.storage().key() + "' which holds " + have);
        if (contiguous) return new HostArray(size, type.decode(bb, Math.toIntExact(t.offset() * type.size), n));
        float[] out = new float[n];
        int[] idx = new int[size.length];
        long at = t.offset();
        for (int k = 0; k < n; k++) {
            out[k] = type.get(bb, at * type.size);
            for (int d = size.length - 1; d >= 0; d--) { // odometer over the index, innermost first
                if (++idx[d] < size[d]) { at += stride[d]; break; }
                idx[d] = 0;
                at -= (size[d] - 1) * stride[d];
            }
        }
        return new HostArray(size, out);
    }

    private static IllegalArgumentException bad(Path file, String problem) {
        return new conta.error.FormatError(file + ": " + problem);
    }
}
