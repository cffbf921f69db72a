package conta.cli;

import conta.error.UserError;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Command-line flags: {@code --key value}, {@code --key=value}, bare {@code --flag} (true for a boolean; for any other
 * flag "--flag needs a value", so {@code --train} at the end of the line is not read as the word "true"), repeated
 * keys collected in order, positional words kept apart. Booleans parse true/false/yes/no/1/0/on/off and refuse
 * anything else.
 */
public final class Args {
    private final Map<String, List<String>> flags = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();

    public Args(String[] argv) {
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (a.startsWith("--") && a.length() > 2) {
                String key = a.substring(2);
                String val;
                int eq = key.indexOf('=');
                if (eq >= 0) {
                    val = key.substring(eq + 1);
                    key = key.substring(0, eq);
                } else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
                    val = argv[++i];
                } else {
                    val = null; // bare: true for getBool, "needs a value" for everything else
                }
                flags.computeIfAbsent(key, k -> new ArrayList<>()).add(val);
            } else {
                positional.add(a);
            }
        }
    }

    public List<String> positional() { return positional; }

    public boolean has(String key) { return flags.containsKey(key); }

    /** A flag's value; one given twice with different values is refused (the last used to win silently). */
    public String get(String key, String def) {
        List<String> v = flags.get(key);
        if (v == null) return def;
        if (v.stream().distinct().count() > 1)
            throw new UserError("--" + key + " is given " + v.size() + " times (" + String.join(", ", v.stream().map(String::valueOf).toList())
                    + "); give it once");
        return valueOf(key, v.getLast());
    }

    /** An empty value ({@code --out ""}, {@code --out=}) is refused: as a path it would be the working folder. */
    private static String valueOf(String key, String v) {
        if (v == null) throw new UserError("--" + key + " needs a value (--" + key + " VALUE)");
        if (v.isEmpty()) throw new UserError("--" + key + " is empty; give it a value (--" + key + " VALUE)");
        return v;
    }

    public String require(String key) {
        String v = get(key, null);
        if (v == null) throw new UserError("missing required flag --" + key);
        return v;
    }

    /** Refuses, in one line, a call without every one of keys: "missing --a, --b (usage: ...)". */
    public void requireAll(String usage, String... keys) {
        List<String> missing = new ArrayList<>();
        for (String k : keys) if (!has(k)) missing.add("--" + k);
        if (!missing.isEmpty())
            throw new UserError("missing " + String.join(", ", missing) + " (" + usage.lines().findFirst().orElse("").strip() + ")");
    }

    public List<String> all(String key) {
        List<String> v = flags.getOrDefault(key, List.of());
        for (String x : v) valueOf(key, x);
        return v;
    }

    public int getInt(String key, int def) {
        String v = get(key, null);
        if (v == null) return def;
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            if (v.strip().matches("[+-]?\\d+")) // digits, but more than an int holds
                throw new UserError("--" + key + " " + v + " is too " + (v.strip().startsWith("-") ? "small" : "large")
                        + " (an integer from " + Integer.MIN_VALUE + " to " + Integer.MAX_VALUE + ")");
            throw new UserError("--" + key + " expects an integer, got '" + v + "'");
        }
    }

    public double getDouble(String key, double def) {
        String v = get(key, null);
        if (v == null) return def;
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new UserError("--" + key + " expects a number, got '" + v + "'");
        }
    }

    public boolean getBool(String key, boolean def) {
        List<String> v = flags.get(key);
        if (v == null) return def;
        return v.getLast() == null || parseBool("--" + key, v.getLast());
    }

    public static boolean parseBool(String what, String v) {
        return switch (v.toLowerCase()) {
            case "true", "yes", "1", "on" -> true;
            case "false", "no", "0", "off" -> false;
            default -> throw new UserError(what + " expects true or false, got '" + v + "'");
        };
    }

    /** The flags not in known, each with the nearest known one where a typo explains it ("modle (did you mean --model?)"). */
    public List<String> unknown(List<String> known) {
        return unknownNames(known).stream().map(k -> k + nearest(k, known)).toList();
    }

    /** The flags not in known, as given. */
    public List<String> unknownNames(List<String> known) {
        List<String> u = new ArrayList<>();
        for (String k : flags.keySet()) if (!known.contains(k)) u.add(k);
        return u;
    }

    /** " (did you mean --K?)" for the known flag within two edits of (or a prefix either way of) flag, else "". */
    static String nearest(String flag, List<String> known) {
        String best = null;
        int bestD = Integer.MAX_VALUE;
        for (String k : known) {
            int d = k.startsWith(flag) || flag.startsWith(k) ? Math.abs(k.length() - flag.length()) : conta.io.SystemProps.distance(flag, k);
            if (d < bestD) {
                bestD = d;
                best = k;
            }
        }
        int allowed = flag.length() <= 2 ? 1 : 2;
        return best != null && bestD <= allowed ? " (did you mean --" + best + "?)" : "";
    }
}
