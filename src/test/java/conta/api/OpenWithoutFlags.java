package conta.api;

/** Opens a bundle in a JVM started without conta's flags and prints what came back: ContaModelTest runs it in a child JVM. */
public final class OpenWithoutFlags {
    private OpenWithoutFlags() { }

    public static void main(String[] args) {
        try (ContaModel m = ContaModel.open(java.nio.file.Path.of(args[0]), "cpu")) {
            System.out.println("OPENED " + m.classNames().size());
        } catch (ContaException e) {
            System.out.println(e.code() + " " + e.getMessage());
        }
    }
}
