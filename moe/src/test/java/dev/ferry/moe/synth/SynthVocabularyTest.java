package dev.ferry.moe.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.loader.tokenizer.TokenType;
import dev.ferry.loader.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import org.junit.jupiter.api.Test;

class SynthVocabularyTest {

    private static Tokenizer tokenizer(SynthVocabulary v) {
        return Tokenizer.builder(v.tokens(), v.merges())
                .pre(SynthVocabulary.PRE_TOKENIZER)
                .tokenTypes(v.tokenTypes())
                .eos(v.imEnd())
                .build();
    }

    @Test
    void tinyVocabularyIsBytesMergesAndSpecialsWithoutPadding() {
        SynthVocabulary v = SynthVocabulary.of(SynthPreset.TINY_VOCAB);
        assertEquals(768, v.size());
        assertEquals("!", v.tokens().get(0));
        assertEquals("Ā", v.tokens().get(188)); // byte 0x00, the first remapped byte
        assertEquals(765, v.endOfText());
        assertEquals(SynthVocabulary.SPECIAL_TOKENS, v.tokens().subList(765, 768));
        assertEquals(768 - 256 - 3, v.merges().size(), "every learned token comes from one merge");
        assertEquals(v.size(), new HashSet<>(v.tokens()).size(), "token texts are unique");
        int[] types = v.tokenTypes();
        assertEquals(TokenType.NORMAL.code(), types[700]);
        assertEquals(TokenType.CONTROL.code(), types[767]);
    }

    @Test
    void largeVocabularyIsPaddedWithUnusedTokensNamedByTheirId() {
        SynthVocabulary v = SynthVocabulary.of(151936);
        assertEquals(151936, v.size());
        assertEquals("[PAD151935]", v.tokens().get(151935));
        assertEquals(TokenType.UNUSED.code(), v.tokenTypes()[151935]);
        assertEquals(TokenType.CONTROL.code(), v.tokenTypes()[v.imStart()]);
        assertEquals("<|im_start|>", v.tokens().get(v.imStart()));
        assertEquals("[PAD" + (v.imEnd() + 1) + "]", v.tokens().get(v.imEnd() + 1));
    }

    @Test
    void smallerVocabulariesUseAPrefixOfTheMerges() {
        SynthVocabulary small = SynthVocabulary.of(300);
        SynthVocabulary tiny = SynthVocabulary.of(SynthPreset.TINY_VOCAB);
        assertEquals(300 - 259, small.merges().size());
        assertEquals(tiny.merges().subList(0, small.merges().size()), small.merges());
        assertEquals(tiny.tokens().subList(0, 297), small.tokens().subList(0, 297));
        assertEquals(259, SynthVocabulary.of(259).size());
    }

    @Test
    void learnedMergesTokenizeEnglishCompactlyAndRoundTrip() {
        Tokenizer t = tokenizer(SynthVocabulary.of(SynthPreset.TINY_VOCAB));
        String text = "The ferry crossed the river in the morning, and the ship sailed to the harbour.";
        int[] ids = t.encode(text, false, false);
        assertTrue(ids.length <= 24, "expected mostly whole-word tokens for 80 bytes, got " + ids.length + " tokens");
        assertEquals(text, t.decode(ids, false));
        String unseen = "Zürich 2026: naïve café 東京 🚢";
        assertArrayEquals(unseen.getBytes(StandardCharsets.UTF_8), t.decodeBytes(t.encode(unseen, false, false), false));
    }

    @Test
    void chatMarkersAreSpecialTokens() {
        SynthVocabulary v = SynthVocabulary.of(SynthPreset.TINY_VOCAB);
        int[] ids = tokenizer(v).encode("<|im_start|>user\nHello<|im_end|>", false, true);
        assertEquals(v.imStart(), ids[0]);
        assertEquals(v.imEnd(), ids[ids.length - 1]);
    }
}
