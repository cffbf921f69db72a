package conta.nn;

import conta.tensor.Backend;

/** A module that only groups children under a name (PyTorch's Sequential/ModuleList in a state dict). */
public final class Container extends Module {
    public Container(Backend b) { super(b); }

    public <M extends Module> M add(String name, M m) { return child(name, m); }
}
