package conta.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The named parts of a training loss (e.g. the boundary branch's bg/fg/neg affinity terms, DeepLab's loss per scale),
 * recorded by a stage's loss function during a {@link Trainer} step and written to the training log beside the total.
 * Per thread, and only while a trainer step collects them: a loss computed elsewhere (tests, `conta model step`)
 * records nothing.
 */
public final class LossParts {
    private LossParts() { }

    private static final ThreadLocal<Map<String, Float>> CURRENT = new ThreadLocal<>();

    /** Records one part of the current step's loss (ignored outside a trainer step). */
    public static void put(String name, float value) {
        Map<String, Float> m = CURRENT.get();
        if (m != null) m.put(name, value);
    }

    static void begin() { CURRENT.set(new LinkedHashMap<>()); }

    static Map<String, Float> end() {
        Map<String, Float> m = CURRENT.get();
        CURRENT.remove();
        return m == null ? Map.of() : m;
    }
}
