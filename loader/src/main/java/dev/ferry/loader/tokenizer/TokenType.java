package dev.ferry.loader.tokenizer;

/**
 * The token types stored in {@code tokenizer.ggml.token_type} (llama.cpp's llama_token_type codes).
 * CONTROL and USER_DEFINED tokens are the "special" tokens matched in text before BPE.
 */
public enum TokenType {
    UNDEFINED(0),
    NORMAL(1),
    UNKNOWN(2),
    CONTROL(3),
    USER_DEFINED(4),
    UNUSED(5),
    BYTE(6);

    private final int code;

    TokenType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The type for a GGUF code; codes outside 0..6 read as UNDEFINED, as llama.cpp does. */
    public static TokenType ofCode(int code) {
        return code >= 0 && code < values().length ? values()[code] : UNDEFINED;
    }
}
