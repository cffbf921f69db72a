package conta.api;

/** Every failure of the conta API: a code (also the C ABI's return value) and a one-line message naming the cause. */
public final class ContaException extends RuntimeException {
    /** Error kinds; {@link #value} is the C ABI's error code (conta.h). */
    public enum Code {
        ARGUMENT(1), NOT_FOUND(2), MODEL(3), IMAGE(4), KIND(5), DEVICE(6), INTERNAL(8);
        public final int value;

        Code(int v) { value = v; }
    }

    private final Code code;

    public ContaException(Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public ContaException(Code code, String message) { this(code, message, null); }

    public Code code() { return code; }
}
