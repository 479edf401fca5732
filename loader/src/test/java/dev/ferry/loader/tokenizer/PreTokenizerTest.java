package dev.ferry.loader.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Word splits derived by hand from llama.cpp's expressions and its category collapsing. */
class PreTokenizerTest {

    private static List<String> split(String pre, String text) {
        List<String> words = PreTokenizer.forName(pre).split(text);
        assertEquals(text, String.join("", words), "words concatenate back to the text");
        return words;
    }

    @Test
    void qwen2SplitsDigitsOneByOneAndKeepsPunctuationApart() {
        assertEquals(List.of("Hello", " world", "!", " ", "1", "2", "3"), split("qwen2", "Hello world! 123"));
    }

    @Test
    void whitespaceRunLeavesItsLastSpaceToTheNextWord() {
        assertEquals(List.of("a", "  ", " b"), split("qwen2", "a   b"));
        assertEquals(List.of("a", "  "), split("qwen2", "a  "));
        assertEquals(List.of("a", "\n\n", "b"), split("qwen2", "a\n\nb"));
        assertEquals(List.of("x", " \n", "y"), split("qwen2", "x \ny"));
    }

    @Test
    void nonAsciiWhitespaceCountsAsWhitespace() {
        assertEquals(List.of("a", "\u00A0", "\u00A0b"), split("qwen2", "a\u00A0\u00A0b"));
    }

    @Test
    void contractionsAreCaseInsensitiveInLlama3AndQwen2ButNotGpt2() {
        assertEquals(List.of("I", "'M", " ok"), split("llama3", "I'M ok"));
        assertEquals(List.of("we", "'re"), split("qwen2", "we're"));
        assertEquals(List.of("I", "'", "M"), split("gpt-2", "I'M"));
        assertEquals(List.of("I", "'m"), split("gpt-2", "I'm"));
    }

    @Test
    void llama3GroupsDigitsInThrees() {
        assertEquals(List.of("123", "45", " apples"), split("llama3", "12345 apples"));
        assertEquals(List.of("x", "+=", "1", ";\n"), split("llama-bpe", "x+=1;\n"));
    }

    @Test
    void accentedAndCjkLettersAreLetters() {
        assertEquals(List.of("na\u00EFve", " caf\u00E9", " \u6771\u4EAC"), split("qwen2", "na\u00EFve caf\u00E9 \u6771\u4EAC"));
    }

    @Test
    void emojiAreSymbolsAndStickTogether() {
        assertEquals(List.of("hi", " \uD83D\uDE00\uD83D\uDE80"), split("qwen2", "hi \uD83D\uDE00\uD83D\uDE80"));
    }

    @Test
    void deepseekV3SplitsNumbersThenCjkThenWords() {
        assertEquals(List.of("Hello", "\u4E16\u754C", "123", "456"), split("deepseek-v3", "Hello\u4E16\u754C123456"));
        assertEquals(List.of("Hi", ",", " there"), split("deepseek-v3", "Hi, there"));
    }

    @Test
    void deepseekV3KeepsLlamaCppsViewThatTildeIsNeitherPunctuationNorSymbol() {
        // '~' stays out of llama.cpp's collapsed \p{S}, so the second '~' prefixes the letters
        assertEquals(List.of("a", "~", "~b"), split("deepseek-v3", "a~~b"));
    }

    @Test
    void deepseekLlmSplitsLinesLettersAndNumbers() {
        assertEquals(List.of("Hello", ",", " World", "!", "\n", "123"), split("deepseek-llm", "Hello, World!\n123"));
        // every expression re-splits every piece: the third one's class [!-/:-~] holds a-z, so it cuts "t" out of "Été"
        assertEquals(List.of("\u00C9", "t", "\u00E9", " ", "\u4E2D\u6587"), split("deepseek-llm", "\u00C9t\u00E9 \u4E2D\u6587"));
    }

    @Test
    void defaultAppliesFourExpressionsInTurn() {
        assertEquals(List.of("Hello", " world", "'", "s", " ", "123", "45", "!!"),
                split("default", "Hello world's 12345!!"));
    }

    @Test
    void emptyTextHasNoWords() {
        assertEquals(List.of(), split("qwen2", ""));
    }

    @Test
    void byteEncodedWordsUseGpt2Characters() {
        assertEquals(List.of("Hello", "\u0120w\u00C3\u00AF"), PreTokenizer.forName("qwen2").splitByteEncoded("Hello w\u00EF"));
    }

    @Test
    void unknownPreTokenizerIsAnErrorNamingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PreTokenizer.forName("bogus-pre"));
        assertTrue(e.getMessage().contains("'bogus-pre'"), e.getMessage());
        IllegalArgumentException k = assertThrows(IllegalArgumentException.class, () -> PreTokenizer.forName("kimi-k2"));
        assertTrue(k.getMessage().contains("not supported"), k.getMessage());
    }

    @Test
    void byteEncodingRoundTripsAllBytes() {
        for (int b = 0; b < 256; b++) {
            assertEquals(b, ByteEncoding.byteOf(ByteEncoding.charOf(b)));
        }
        assertEquals('\u0120', ByteEncoding.charOf(' '));
        assertEquals('\u010A', ByteEncoding.charOf('\n'));
        assertEquals('A', ByteEncoding.charOf('A'));
        assertEquals(-1, ByteEncoding.byteOf(' '));
    }
}
