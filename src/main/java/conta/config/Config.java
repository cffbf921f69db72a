package conta.config;

import conta.error.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every recipe value of the pipeline, by key, with the reference implementations' defaults (IRNet for the classifier,
 * CAMs, IR labels and random walk; deeplab-pytorch for segmentation). A config file ({@code key = value} lines, '#'
 * comments) and {@code --set key=value} flags override them; an unknown key or a malformed value is an error naming
 * the key. Values are kept as strings and parsed by the typed getters, so booleans accept only true/false/yes/no/on/off/1/0.
 */
public final class Config {
    private final Map<String, String> values = new LinkedHashMap<>();

    /** The defaults of {@link ConfigKeys#ALL}. */
    public Config() {
        for (ConfigKeys.Key k : ConfigKeys.ALL) values.put(k.name(), k.def());
    }

    /** Defaults, then the file of --config (if any, else null), then each --set key=value. */
    public static Config fromFlags(String file, List<String> sets) {
        Config c = new Config();
        if (file != null) c.load(Path.of(file));
        c.applySets(sets);
        return c;
    }

    /** Applies --set key=value flags in order. */
    public void applySets(List<String> kvs) {
        for (String kv : kvs) {
            int eq = kv.indexOf('=');
            if (eq <= 0) throw new UserError("--set expects key=value, got '" + kv + "'");
            set(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
        }
    }

    public void load(Path file) {
        List<String> lines;
        try {
            if (Files.isDirectory(file)) throw new UserError("config file " + file + " is a folder; give --config a file of key = value lines");
            lines = Files.readAllLines(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new UserError("config file " + file + " does not exist; check the --config path");
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new UserError("config file " + file + " is not UTF-8 text; --config takes a text file of key = value lines");
        } catch (java.nio.file.AccessDeniedException e) {
            throw new UserError("config file " + file + ": permission denied; make it readable");
        } catch (IOException e) {
            throw new UserError("cannot read config file " + file + " (" + e.getMessage() + "); check the --config path");
        }
        if (file.getFileName().toString().endsWith(".json")) loadRunConfig(String.join("\n", lines), file.toString());
        else load(lines, file.toString());
    }

    /**
     * A pipeline run's OUT/config.json (its recipe as a JSON object of key: "value"), or its report.json (whose
     * "config" object holds the same keys and the run's other settings), so that redoing a stage of a run is one
     * literal command: conta pipeline --data D --out OUT --config OUT/config.json --from roundT/STAGE. Read as the run
     * meant it: keys it predates take their former behaviour ({@link ConfigKeys#LEGACY}), and keys this version no
     * longer knows are skipped with a note, as the pipeline does when it compares a run's recipe.
     */
    private void loadRunConfig(String text, String source) {
        Map<String, Object> m;
        try {
            m = conta.io.Json.parseObject(text);
        } catch (IllegalArgumentException e) {
            throw new UserError("config file " + source + " is not a JSON object (" + e.getMessage() + "); a .json --config is a run's config.json or report.json");
        }
        if (m.get("config") instanceof Map<?, ?> inReport) { // report.json
            Map<String, Object> c = new LinkedHashMap<>();
            inReport.forEach((k, v) -> c.put(String.valueOf(k), v));
            m = c;
        }
        Map<String, Object> all = new LinkedHashMap<>(m);
        ConfigKeys.LEGACY.forEach(all::putIfAbsent);
        List<String> unknown = new java.util.ArrayList<>();
        for (var e : all.entrySet()) {
            if (ConfigKeys.get(e.getKey()) == null) { unknown.add(e.getKey()); continue; }
            try {
                set(e.getKey(), String.valueOf(e.getValue()));
            } catch (UserError u) {
                throw new UserError(source + ": " + u.getMessage());
            }
        }
        if (!unknown.isEmpty()) System.err.println("note: " + source + ": skipping keys this conta does not know: " + String.join(", ", unknown));
    }

    /** key = value lines ('#' comments); source names them in errors; a key set on two lines is an error naming both. */
    public void load(List<String> lines, String source) {
        Map<String, Integer> seen = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i).strip();
            int hash = l.indexOf('#');
            if (hash >= 0) l = l.substring(0, hash).strip();
            if (l.isEmpty()) continue;
            int eq = l.indexOf('=');
            if (eq <= 0) throw new UserError(source + ":" + (i + 1) + ": expected key = value, got '" + lines.get(i) + "'");
            ConfigKeys.checkDuplicate(seen, l.substring(0, eq).strip(), i + 1, source);
            try {
                set(l.substring(0, eq).strip(), l.substring(eq + 1).strip());
            } catch (UserError e) {
                throw new UserError(source + ":" + (i + 1) + ": " + e.getMessage());
            }
        }
    }

    /** Sets one key after checking the value against its row of {@link ConfigKeys} (an error names key, value and range). */
    public void set(String key, String value) {
        ConfigKeys.Key k = ConfigKeys.get(key);
        if (k == null) throw new UserError("unknown config key '" + key + "'" + suggest(key) + "; `conta pipeline --help-config` lists them");
        k.check(value);
        values.put(key, value.strip());
    }

    /**
     * Checks the whole configuration (every value against its row, then the rules between keys) before a run
     * starts or writes anything; the first problem is a UserError naming the key, the value and the allowed values.
     */
    public Config validate() {
        for (ConfigKeys.Key k : ConfigKeys.ALL) k.check(values.get(k.name()));
        ConfigKeys.checkTogether(this);
        return this;
    }

    private String suggest(String key) {
        String tail = key.contains(".") ? key.substring(key.lastIndexOf('.') + 1) : key;
        List<String> near = new ArrayList<>();
        for (String k : values.keySet()) if (k.endsWith("." + tail) || k.startsWith(key)) near.add(k);
        return near.isEmpty() ? "" : " (did you mean " + String.join(" or ", near) + "?)";
    }

    public String str(String key) {
        String v = values.get(key);
        if (v == null) throw new IllegalArgumentException("no config key " + key);
        return v;
    }

    public int integer(String key) {
        try {
            return Integer.parseInt(str(key));
        } catch (NumberFormatException e) {
            throw new UserError("config " + key + " must be an integer, got '" + str(key) + "'");
        }
    }

    public double number(String key) {
        try {
            double d = Double.parseDouble(str(key));
            if (!Double.isFinite(d)) throw new NumberFormatException();
            return d;
        } catch (NumberFormatException e) {
            throw new UserError("config " + key + " must be a finite number, got '" + str(key) + "'");
        }
    }

    public boolean bool(String key) {
        String v = str(key).toLowerCase(java.util.Locale.ROOT);
        if (ConfigKeys.TRUE.contains(v)) return true;
        if (ConfigKeys.FALSE.contains(v)) return false;
        throw new UserError("config " + key + " must be true or false, got '" + str(key) + "'");
    }

    public double[] numbers(String key) {
        try {
            return Arrays.stream(str(key).split(",")).map(String::strip).mapToDouble(Double::parseDouble).toArray();
        } catch (NumberFormatException e) {
            throw new UserError("config " + key + " must be comma-separated numbers, got '" + str(key) + "'");
        }
    }

    public int[] ints(String key) {
        try {
            return Arrays.stream(str(key).split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            throw new UserError("config " + key + " must be comma-separated integers, got '" + str(key) + "'");
        }
    }

    /**
     * CONTA block numbers (2..5: layer1..layer4's outputs) where the context map joins: "5", "3", a comma list such as
     * "3,5", or "all" (2, 3, 4, 5). Sorted; an error naming the key for anything else.
     */
    public int[] contextBlocks(String key) {
        String v = str(key).strip();
        String err = "config " + key + " must be 2, 3, 4 or 5 (CONTA's blocks layer1..layer4), a comma-separated list of them such as 3,5, or all; got '" + v + "'";
        try {
            return parseBlocks(v);
        } catch (NumberFormatException e) {
            throw new UserError(err);
        } catch (IllegalArgumentException e) {
            throw new UserError(err + " (" + e.getMessage() + ")");
        }
    }

    /** CONTA block numbers of a value, sorted; NumberFormatException or IllegalArgumentException (saying why) otherwise. */
    static int[] parseBlocks(String v) {
        v = v.strip();
        if (v.equalsIgnoreCase("all")) return new int[]{2, 3, 4, 5};
        return conta.models.ResNetConfig.checkContextBlocks(Arrays.stream(v.split(",", -1)).map(String::strip).mapToInt(Integer::parseInt).toArray());
    }

    /** All values, for report.json. */
    public Map<String, String> asMap() { return new LinkedHashMap<>(values); }

    /** Every key with its current value, meaning and allowed values (--help-config), from {@link ConfigKeys}. */
    public String help() { return ConfigKeys.help(this); }

    /** A copy with the same values. */
    public Config copy() {
        Config c = new Config();
        c.values.putAll(values);
        return c;
    }
}
