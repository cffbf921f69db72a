package conta.tensor.cuda;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A bounded map that evicts the least recently used entry and hands it to a destroyer (cuDNN descriptors and plans are
 * native objects: an unbounded cache of one per input shape grows without end when every image has its own size, as
 * in CAM and prediction passes). Not thread-safe: each backend uses its caches from one stream's thread at a time.
 */
final class LruCache<K, V> {
    private final int capacity;
    private final Consumer<V> destroyer;
    private long evictions;
    private final LinkedHashMap<K, V> map;

    LruCache(int capacity, Consumer<V> destroyer) {
        if (capacity < 1) throw new IllegalArgumentException("cache capacity must be >= 1, got " + capacity);
        this.capacity = capacity;
        this.destroyer = destroyer;
        this.map = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                if (size() <= LruCache.this.capacity) return false;
                evictions++;
                destroyer.accept(eldest.getValue());
                return true;
            }
        };
    }

    /** The cached value (now the most recently used), or null. */
    V get(K key) { return map.get(key); }

    /** Adds a value; the least recently used one is destroyed if the cache is full. */
    void put(K key, V value) {
        V old = map.put(key, value);
        if (old != null && old != value) destroyer.accept(old);
    }

    int size() { return map.size(); }

    long evictions() { return evictions; }

    /** Destroys every entry. */
    void clear() {
        for (V v : map.values()) destroyer.accept(v);
        map.clear();
    }
}
