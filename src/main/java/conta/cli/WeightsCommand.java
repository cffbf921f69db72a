package conta.cli;

import conta.error.UserError;
import conta.io.HostArray;
import conta.io.PretrainedWeights;
import conta.io.Safetensors;
import conta.io.Tfjs;
import conta.io.WeightFiles;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** `conta weights fetch|convert|info`: obtains pretrained weights and converts between weight file formats. */
public final class WeightsCommand implements Command {
    static final String USAGE = """
            usage: conta weights fetch resnet50-imagenet [--cache DIR]
                   conta weights convert --in FILE --out OUT.safetensors [--keras-names]
                   conta weights info FILE
            FILE: %s""".formatted(WeightFiles.SUPPORTED);

    private final PrintStream out;

    public WeightsCommand() { this(System.out); }

    WeightsCommand(PrintStream out) { this.out = out; }

    @Override public String usage() { return USAGE; }

    @Override
    public String name() { return "weights"; }

    @Override
    public String summary() { return "fetch pretrained weights, convert .pth/.safetensors/model.json, list tensors"; }

    @Override
    public int run(Args args) throws Exception {
        List<String> pos = args.positional();
        if (pos.isEmpty() || args.has("help")) {
            out.println(USAGE);
            return pos.isEmpty() && !args.has("help") ? 2 : 0;
        }
        try {
            return switch (pos.getFirst()) {
                case "fetch" -> fetch(args);
                case "convert" -> convert(args);
                case "info" -> info(args);
                default -> throw new UserError("unknown subcommand '" + pos.getFirst() + "'\n" + USAGE);
            };
        } catch (IllegalArgumentException | IllegalStateException | IOException e) {
            // loaders name the file and the problem; print that as one line
            throw new UserError(e.getMessage() == null ? e.toString() : e.getMessage(), e);
        }
    }

    private static void onlyFlags(Args args, List<String> known, int positional) {
        List<String> unknown = args.unknown(known);
        if (!unknown.isEmpty()) throw new UserError("unknown flag --" + unknown.getFirst() + "\n" + USAGE);
        if (args.positional().size() != positional)
            throw new UserError("expected " + (positional - 1) + " argument(s) after '" + args.positional().getFirst() + "'\n" + USAGE);
    }

    private int fetch(Args args) throws IOException {
        onlyFlags(args, List.of("cache"), 2);
        String what = args.positional().get(1);
        if (!what.equals("resnet50-imagenet")) throw new UserError("unknown pretrained model '" + what + "' (known: resnet50-imagenet)");
        String cache = args.get("cache", null);
        Path p = PretrainedWeights.resnet50Imagenet(cache == null ? null : Path.of(cache));
        out.println(p);
        return 0;
    }

    private int convert(Args args) throws IOException {
        onlyFlags(args, List.of("in", "out", "keras-names"), 1);
        Path in = Path.of(args.require("in"));
        Path dst = Path.of(args.require("out"));
        if (!dst.getFileName().toString().endsWith(".safetensors"))
            throw new UserError("--out must end in .safetensors (the only format written), got " + dst);
        if (conta.io.SameFile.test(in, dst)) throw new UserError("--in and --out are the same file " + dst);
        LinkedHashMap<String, HostArray> w = WeightFiles.load(in);
        Map<String, String> meta = new LinkedHashMap<>();
        if (WeightFiles.kind(Files.isDirectory(in) ? in.resolve("model.json") : in) == WeightFiles.Kind.SAFETENSORS)
            meta.putAll(Safetensors.metadata(in));
        meta.put("converted_from", in.getFileName().toString());
        if (!args.getBool("keras-names", false) && Tfjs.isKerasResNet(w)) {
            w = Tfjs.toTorchNames(w);
            meta.put("names", "torchvision");
        }
        Safetensors.write(dst, w, meta);
        long params = 0;
        for (HostArray a : w.values()) params += a.numel();
        out.println("wrote " + dst + ": " + w.size() + " tensors, " + params + " values");
        return 0;
    }

    private int info(Args args) throws IOException {
        onlyFlags(args, List.of(), 2);
        Path f = Path.of(args.positional().get(1));
        if (Files.isRegularFile(f) && WeightFiles.kind(f) == WeightFiles.Kind.SAFETENSORS) {
            // header only: no need to read the data
            long params = 0;
            List<Safetensors.Entry> es = Safetensors.entries(f);
            for (Map.Entry<String, String> m : Safetensors.metadata(f).entrySet()) out.println("# " + m.getKey() + ": " + m.getValue());
            for (Safetensors.Entry e : es) {
                long n = 1;
                for (int d : e.shape()) n *= d;
                params += n;
                out.printf("%-50s %-20s %s%n", e.name(), java.util.Arrays.toString(e.shape()), e.dtype());
            }
            out.println(es.size() + " tensors, " + params + " values");
            return 0;
        }
        LinkedHashMap<String, HostArray> w = WeightFiles.load(f);
        long params = 0;
        for (Map.Entry<String, HostArray> e : w.entrySet()) {
            params += e.getValue().numel();
            out.printf("%-50s %s%n", e.getKey(), e.getValue().shapeString());
        }
        out.println(w.size() + " tensors, " + params + " values");
        return 0;
    }
}
