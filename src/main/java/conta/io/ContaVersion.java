package conta.io;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** conta's version (the Maven project version, filtered into conta/version.properties at build time). */
public final class ContaVersion {
    private ContaVersion() { }

    private static final String VERSION = read();

    public static String get() { return VERSION; }

    private static String read() {
        try (InputStream in = ContaVersion.class.getResourceAsStream("/conta/version.properties")) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            return v.startsWith("${") ? "unknown" : v;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
