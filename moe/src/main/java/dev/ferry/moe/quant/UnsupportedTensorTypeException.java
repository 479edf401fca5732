package dev.ferry.moe.quant;

import dev.ferry.loader.GgmlType;

/** A tensor uses a ggml type that ferry recognises but cannot compute with (yet, or ever). */
public final class UnsupportedTensorTypeException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final transient GgmlType type;

    public UnsupportedTensorTypeException(GgmlType type, String message) {
        super(message);
        this.type = type;
    }

    /** The refused type. */
    public GgmlType type() {
        return type;
    }
}
