package conta.io;

/**
 * A pickle asked for something other than tensors and plain containers (a function call such as {@code os.system},
 * a class outside the allow-list). Nothing was executed: the unpickler only interprets data and stops here.
 */
public class PthSecurityException extends IllegalArgumentException {
    public PthSecurityException(String message) { super(message); }
}
