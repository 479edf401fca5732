package dev.ferry.loader.tokenizer;

/**
 * Turns generated tokens into text as they arrive without ever returning half a character:
 * a UTF-8 sequence split across tokens (an emoji is often 2-4 byte tokens) is held back until
 * its last byte arrives. Bytes that can never form a character become U+FFFD right away (one per
 * maximal ill-formed subsequence, as Java's own decoder does); an unfinished sequence left at the
 * end becomes U+FFFD in {@link #finish()}.
 *
 * <p>Not thread-safe: one decoder per generation stream.
 */
public final class StreamingDecoder {

    private static final char REPLACEMENT = '\uFFFD';

    private final Tokenizer tokenizer;
    private final boolean renderSpecial;
    private final StringBuilder out = new StringBuilder(16);
    private int codePoint;
    private int needed;
    private int seen;
    private int first;

    StreamingDecoder(Tokenizer tokenizer, boolean renderSpecial) {
        this.tokenizer = tokenizer;
        this.renderSpecial = renderSpecial;
    }

    /** The complete characters this token finishes (possibly empty). */
    public String accept(int tokenId) {
        out.setLength(0);
        for (byte b : tokenizer.pieceRef(tokenId, renderSpecial)) {
            feed(b & 0xFF);
        }
        return out.toString();
    }

    /** The complete characters of raw bytes (for callers that already hold a piece). */
    public String acceptBytes(byte[] bytes) {
        out.setLength(0);
        for (byte b : bytes) {
            feed(b & 0xFF);
        }
        return out.toString();
    }

    /** Whether bytes of an unfinished character are held back. */
    public boolean hasPending() {
        return needed > 0;
    }

    /** Ends the stream: an unfinished character becomes U+FFFD. The decoder can be reused afterwards. */
    public String finish() {
        out.setLength(0);
        if (needed > 0) {
            out.append(REPLACEMENT);
            needed = 0;
        }
        return out.toString();
    }

    private void feed(int b) {
        if (needed > 0) {
            if (continues(b)) {
                codePoint = (codePoint << 6) | (b & 0x3F);
                if (++seen == needed) {
                    out.appendCodePoint(codePoint);
                    needed = 0;
                }
                return;
            }
            // the held bytes can never complete: replace them, then read b afresh
            out.append(REPLACEMENT);
            needed = 0;
        }
        if (b < 0x80) {
            out.append((char) b);
        } else if (b >= 0xC2 && b <= 0xDF) {
            start(b, b & 0x1F, 2);
        } else if (b >= 0xE0 && b <= 0xEF) {
            start(b, b & 0x0F, 3);
        } else if (b >= 0xF0 && b <= 0xF4) {
            start(b, b & 0x07, 4);
        } else {
            out.append(REPLACEMENT);
        }
    }

    private void start(int lead, int bits, int length) {
        first = lead;
        codePoint = bits;
        needed = length;
        seen = 1;
    }

    /** Well-formed continuation per Unicode table 3-7 (no overlongs, surrogates or values past U+10FFFF). */
    private boolean continues(int b) {
        if (seen == 1) {
            return switch (first) {
                case 0xE0 -> b >= 0xA0 && b <= 0xBF;
                case 0xED -> b >= 0x80 && b <= 0x9F;
                case 0xF0 -> b >= 0x90 && b <= 0xBF;
                case 0xF4 -> b >= 0x80 && b <= 0x8F;
                default -> b >= 0x80 && b <= 0xBF;
            };
        }
        return b >= 0x80 && b <= 0xBF;
    }
}
