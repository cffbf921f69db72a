package conta.tensor;

/** A block of memory owned by one backend. Freed explicitly, never by the garbage collector. */
public interface Storage {
    long bytes();

    void free();

    boolean isFreed();
}
