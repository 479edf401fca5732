package dev.ferry.loader.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.loader.GgufMetadata;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** BPE merging, special tokens and flags on small hand-made vocabularies. */
class BpeTokenizerTest {

    /** The 256 byte characters first (id = byte value), then the given tokens. */
    private static List<String> vocab(String... extra) {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(ByteEncoding.charOf(b)));
        }
        tokens.addAll(List.of(extra));
        return tokens;
    }

    @Test
    void mergesApplyLowestRankFirst() {
        List<String> tokens = vocab("ab", "bc", "abc");
        Tokenizer byLeft = Tokenizer.builder(tokens, List.of("a b", "b c", "ab c")).pre("qwen2").build();
        assertArrayEquals(new int[] {258}, byLeft.encode("abc", false, false));
        Tokenizer byRight = Tokenizer.builder(tokens, List.of("b c", "a b", "a bc")).pre("qwen2").build();
        assertArrayEquals(new int[] {258}, byRight.encode("abc", false, false));
        Tokenizer noFinal = Tokenizer.builder(tokens, List.of("b c", "a b")).pre("qwen2").build();
        assertArrayEquals(new int[] {'a', 257}, noFinal.encode("abc", false, false));
    }

    @Test
    void equalRanksMergeLeftmostFirst() {
        Tokenizer t = Tokenizer.builder(vocab("aa"), List.of("a a")).pre("qwen2").build();
        assertArrayEquals(new int[] {256, 'a'}, t.encode("aaa", false, false));
        assertArrayEquals(new int[] {256, 256}, t.encode("aaaa", false, false));
    }

    @Test
    void spacesAreMergedInTheirByteCharacterForm() {
        Tokenizer t = Tokenizer.builder(vocab("\u0120a"), List.of("\u0120 a")).pre("qwen2").build();
        assertArrayEquals(new int[] {'x', 256}, t.encode("x a", false, false));
        assertEquals("x a", t.decode(new int[] {'x', 256}, false));
    }

    @Test
    void mergeResultMissingFromVocabularyFallsBackToSingleCharacters() {
        Tokenizer t = Tokenizer.builder(vocab(), List.of("x y")).pre("qwen2").build();
        assertArrayEquals(new int[] {'x', 'y'}, t.encode("xy", false, false));
    }

    @Test
    void ignoreMergesTakesWholeWordTokens() {
        // llama3 looks a whole word up before merging; qwen2 only reaches "ab" through merges
        List<String> tokens = vocab("ab");
        assertArrayEquals(new int[] {256}, Tokenizer.builder(tokens, List.of()).pre("llama3").addBos(false)
                .build().encode("ab", false, false));
        assertArrayEquals(new int[] {'a', 'b'}, Tokenizer.builder(tokens, List.of()).pre("qwen2").build()
                .encode("ab", false, false));
    }

    @Test
    void controlTokensNeedParseSpecialButUserDefinedTokensDoNot() {
        List<String> tokens = vocab("<ctl>", "<usr>");
        int[] types = new int[tokens.size()];
        java.util.Arrays.fill(types, TokenType.NORMAL.code());
        types[256] = TokenType.CONTROL.code();
        types[257] = TokenType.USER_DEFINED.code();
        Tokenizer t = Tokenizer.builder(tokens, List.of()).pre("qwen2").tokenTypes(types).build();
        assertArrayEquals(new int[] {'x', 256, 257}, t.encode("x<ctl><usr>", false, true));
        int[] plain = t.encode("x<ctl><usr>", false, false);
        assertEquals(257, plain[plain.length - 1]);
        // without parse_special "<ctl>" is plain text: words "x", "<ctl", ">" give six byte tokens
        assertEquals(7, plain.length);
        assertEquals("<ctl>", t.decode(new int[] {256}, true));
        assertEquals("", t.decode(new int[] {256}, false));
        assertEquals("<usr>", t.decode(new int[] {257}, false));
    }

    @Test
    void longerSpecialTokensWinOverTheirPrefixes() {
        List<String> tokens = vocab("<|a|>", "<|a|>b");
        int[] types = new int[tokens.size()];
        java.util.Arrays.fill(types, TokenType.NORMAL.code());
        types[256] = TokenType.CONTROL.code();
        types[257] = TokenType.CONTROL.code();
        Tokenizer t = Tokenizer.builder(tokens, List.of()).pre("qwen2").tokenTypes(types).build();
        assertArrayEquals(new int[] {257, 256}, t.encode("<|a|>b<|a|>", false, true));
    }

    @Test
    void bosIsAddedWhenTheModelAsks() {
        List<String> tokens = vocab("<s>");
        Tokenizer llama = Tokenizer.builder(tokens, List.of()).pre("llama-bpe").bos(256).build();
        assertTrue(llama.addBos());
        assertArrayEquals(new int[] {256, 'h', 'i'}, llama.encode("hi", true, true));
        assertArrayEquals(new int[] {'h', 'i'}, llama.encode("hi", false, true));
        Tokenizer qwen = Tokenizer.builder(tokens, List.of()).pre("qwen2").bos(256).build();
        assertFalse(qwen.addBos());
        Tokenizer withEos = Tokenizer.builder(tokens, List.of()).pre("qwen2").eos(256).addEos(true).build();
        assertArrayEquals(new int[] {'h', 256}, withEos.encode("h", true, true));
    }

    @Test
    void endOfGenerationTokensFollowLlamaCppsNames() {
        Tokenizer t = Tokenizer.builder(vocab("<|im_end|>", "<|endoftext|>", "<|im_start|>"), List.of())
                .pre("qwen2").eos(257).build();
        assertTrue(t.isEndOfGeneration(256));
        assertTrue(t.isEndOfGeneration(257));
        assertFalse(t.isEndOfGeneration(258));
        // without token types "<|im_end|>" is still forced to control, as llama.cpp does
        assertEquals(TokenType.CONTROL, t.tokenType(256));
        assertEquals(TokenType.NORMAL, t.tokenType(258));
        assertFalse(t.warnings().isEmpty());
    }

    @Test
    void missingPreTokenizerWarnsAndUsesTheDefault() {
        Tokenizer t = Tokenizer.builder(vocab(), List.of()).build();
        assertEquals("default", t.preTokenizer().name());
        assertTrue(t.warnings().get(0).contains("missing pre-tokenizer"), t.warnings().toString());
    }

    @Test
    void badMetadataGivesErrorsNamingTheProblem() {
        GgufMetadata spm = GgufMetadata.builder().putString(Tokenizer.KEY_MODEL, "llama").build();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Tokenizer.fromGguf(spm)).getMessage()
                .contains("'llama'"));
        GgufMetadata unknownPre = GgufMetadata.builder()
                .putString(Tokenizer.KEY_MODEL, "gpt2")
                .putString(Tokenizer.KEY_PRE, "no-such-pre")
                .putStrings(Tokenizer.KEY_TOKENS, "a", "b")
                .putStrings(Tokenizer.KEY_MERGES, "a b")
                .build();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Tokenizer.fromGguf(unknownPre)).getMessage()
                .contains("'no-such-pre'"));
        GgufMetadata noMerges = GgufMetadata.builder()
                .putString(Tokenizer.KEY_MODEL, "gpt2")
                .putStrings(Tokenizer.KEY_TOKENS, "a", "b")
                .build();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Tokenizer.fromGguf(noMerges)).getMessage()
                .contains(Tokenizer.KEY_MERGES));
        assertThrows(IllegalArgumentException.class,
                () -> Tokenizer.builder(List.of("a", "a"), List.of()).pre("qwen2").build());
        Tokenizer t = Tokenizer.builder(vocab(), List.of()).pre("qwen2").build();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> t.piece(256, true)).getMessage()
                .contains("256"));
    }
}
