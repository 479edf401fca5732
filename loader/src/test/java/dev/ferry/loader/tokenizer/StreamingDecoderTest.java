package dev.ferry.loader.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StreamingDecoderTest {

    private static final Tokenizer TOK = TokenizerReferenceTest.tokenizerFor("tiny-qwen3moe-F32.gguf.ref.json");

    @Test
    void emojiSplitOverFourByteTokensComesOutWhole() {
        // "😀" is f0 9f 98 80: byte tokens 172, 253, 246, 222 in the fixture vocabulary
        int[] ids = TOK.encode("\uD83D\uDE00!", false, true);
        assertEquals(5, ids.length);
        StreamingDecoder d = TOK.streamingDecoder(false);
        assertEquals("", d.accept(ids[0]));
        assertTrue(d.hasPending());
        assertEquals("", d.accept(ids[1]));
        assertEquals("", d.accept(ids[2]));
        assertEquals("\uD83D\uDE00", d.accept(ids[3]));
        assertFalse(d.hasPending());
        assertEquals("!", d.accept(ids[4]));
        assertEquals("", d.finish());
    }

    @Test
    void streamedTextEqualsWholeDecodeForEveryReferenceString() {
        String text = "naïve café 東京 — “quotes” ½ emoji 😀🚀👍🏽 <|im_start|>x<|im_end|>";
        int[] ids = TOK.encode(text, false, true);
        StreamingDecoder d = TOK.streamingDecoder(true);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            String part = d.accept(id);
            assertFalse(part.indexOf('\uFFFD') >= 0, "no replacement characters mid-stream");
            sb.append(part);
        }
        sb.append(d.finish());
        assertEquals(text, sb.toString());
    }

    @Test
    void controlTokensAreSilentUnlessRendered() {
        assertEquals("", TOK.streamingDecoder(false).accept(510));
        assertEquals("<|im_start|>", TOK.streamingDecoder(true).accept(510));
    }

    @Test
    void invalidBytesBecomeReplacementCharacters() {
        StreamingDecoder d = TOK.streamingDecoder(false);
        assertEquals("\uFFFD", d.acceptBytes(new byte[] {(byte) 0x80}));
        assertEquals("", d.acceptBytes(new byte[] {(byte) 0xF0, (byte) 0x9F}));
        assertEquals("\uFFFDA", d.acceptBytes(new byte[] {'A'}));
        assertEquals("", d.acceptBytes(new byte[] {(byte) 0xE2, (byte) 0x80}));
        assertEquals("\uFFFD", d.finish());
        assertEquals("\uFFFD\uFFFD", d.acceptBytes(new byte[] {(byte) 0xC0, (byte) 0xAF}), "overlong form");
        assertEquals("\uFFFD\uFFFD", d.acceptBytes(new byte[] {(byte) 0xED, (byte) 0xA0}), "surrogate");
        assertEquals("\u00E9", d.acceptBytes(new byte[] {(byte) 0xC3, (byte) 0xA9}));
    }
}
