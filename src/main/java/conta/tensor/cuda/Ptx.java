package conta.tensor.cuda;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kernel entry points and parameter kinds read from PTX text. The launcher checks every call's Java arguments
 * against these, because a size mismatch in kernelParams is not an error at launch but garbage or error 701 later.
 */
public final class Ptx {
    /** Parameter kinds: 'p' 64-bit integer or pointer, 'i' 32-bit integer, 'f' float, 'd' double. */
    public record Entry(String name, String kinds) { }

    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+([A-Za-z_][A-Za-z0-9_]*)\\s*\\(([^)]*)\\)");
    private static final Pattern PARAM = Pattern.compile("\\.param\\s+\\.([a-z]+)(\\d+)");

    private Ptx() { }

    public static Map<String, Entry> entries(String ptx) {
        Map<String, Entry> out = new LinkedHashMap<>();
        Matcher m = ENTRY.matcher(ptx);
        while (m.find()) {
            StringBuilder kinds = new StringBuilder();
            Matcher p = PARAM.matcher(m.group(2));
            while (p.find()) kinds.append(kind(p.group(1), Integer.parseInt(p.group(2)), m.group(1)));
            out.put(m.group(1), new Entry(m.group(1), kinds.toString()));
        }
        return out;
    }

    private static char kind(String type, int bits, String entry) {
        if (type.equals("f")) {
            if (bits == 32) return 'f';
            if (bits == 64) return 'd';
        } else if (bits == 64) return 'p';
        else if (bits == 32) return 'i';
        throw new IllegalArgumentException("kernel " + entry + ": parameter type ." + type + bits + " not supported by the launcher");
    }
}
