package dev.ferry.loader.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into the words BPE runs on, with the regular expressions llama.cpp uses for each
 * {@code tokenizer.ggml.pre} name. Several expressions apply in sequence: each one splits every
 * piece the previous one produced, and text between matches stays a piece of its own.
 *
 * <p>Expressions that use Unicode categories run the way llama.cpp runs them: on a "collapsed"
 * copy of the text where every non-ASCII code point is replaced by one marker character for its
 * category (letter, number, punctuation, mark, symbol, whitespace, other), and each category in
 * the expression by that marker plus llama.cpp's ASCII members of the category. This keeps
 * llama.cpp's quirks (for example '~' is neither punctuation nor symbol there).
 */
public final class PreTokenizer {

    /** Marker characters of the collapsed text (llama.cpp's choice of bytes). */
    private static final char OTHER = 0xD0;
    private static final char NUMBER = 0xD1;
    private static final char LETTER = 0xD2;
    private static final char PUNCTUATION = 0xD3;
    private static final char MARK = 0xD4;
    private static final char SYMBOL = 0xD5;
    private static final char WHITESPACE = 0x0B;

    /** Category escapes and what they become inside a character class of the collapsed expression. */
    private static final Map<String, String> CATEGORY_CLASS = Map.ofEntries(
            Map.entry("\\p{N}", "\\x{D1}0-9"),
            Map.entry("\\p{L}", "\\x{D2}A-Za-z"),
            Map.entry("\\p{Lu}", "\\x{D2}A-Za-z"),
            Map.entry("\\p{Ll}", "\\x{D2}A-Za-z"),
            Map.entry("\\p{Lt}", "\\x{D2}A-Za-z"),
            Map.entry("\\p{Lm}", "\\x{D2}A-Za-z"),
            Map.entry("\\p{Lo}", "\\x{D2}A-Za-z"),
            Map.entry("\\p{P}", "\\x{D3}\\x21-\\x23\\x25-\\x2A\\x2C-\\x2F\\x3A-\\x3B\\x3F-\\x40\\x5B-\\x5D\\x5F\\x7B\\x7D"),
            Map.entry("\\p{M}", "\\x{D4}"),
            Map.entry("\\p{S}", "\\x{D5}\\x24\\x2B\\x3C-\\x3E\\x5E\\x60\\x7C"));

    private static final String CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
    private static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    private static final String LLAMA3 = CONTRACTIONS
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2 = CONTRACTIONS
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN35 = CONTRACTIONS
            + "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String SEED_CODER = CONTRACTIONS
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String BAILINGMOE = "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])"
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
    private static final String GPT4O = "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+" + CONTRACTIONS + "?"
            + "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*" + CONTRACTIONS + "?"
            + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String TEKKEN = "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+"
            + "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*"
            + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String DEEPSEEK3_WORDS = "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+"
            + "|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** CJK ideographs, Samaritan..CJK, Hangul: llama.cpp's ranges for DeepSeek's CJK pieces. */
    private static final String DEEPSEEK_CJK = "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+";
    /** Cased letters (Unicode LC) of DeepSeek LLM's tokenizer.json, written as code point ranges. */
    private static final String DEEPSEEK_LLM_LETTERS = "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}"
            + "\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}"
            + "\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}"
            + "\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}"
            + "\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}"
            + "\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}"
            + "\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}"
            + "\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}"
            + "\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}"
            + "\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}"
            + "\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}"
            + "\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}"
            + "\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}"
            + "\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}"
            + "\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}"
            + "\\x{1E900}-\\x{1E943}]+";
    private static final String DEEPSEEK_LLM_PUNCT =
            "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+";
    private static final String BLOOM =
            " ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{FF0C}\\x{3001}\\x{0964}\\x{06D4}\\x{060C})]+";

    /** Pre-tokenizer names llama.cpp knows that ferry does not implement (custom code there). */
    private static final Set<String> KNOWN_UNSUPPORTED = Set.of(
            "kimi-k2", "viking", "chameleon", "jais-2", "spark2_5", "youtu", "tiny_aya", "cohere2moe", "superbpe",
            "afmoe", "laguna", "exaone-moe", "gemma4", "granite-embed-multi-311m", "granite-embed-multi-97m",
            "sarvam-moe", "minicpm5", "whitespace", "ufakzeka", "hy_v4");

    private final String name;
    private final List<Step> steps;
    private final boolean ignoreMerges;
    private final boolean addBosByDefault;
    private final boolean hasBos;

    private PreTokenizer(String name, List<String> expressions, boolean ignoreMerges, boolean addBosByDefault,
                         boolean hasBos) {
        this.name = name;
        this.steps = expressions.stream().map(Step::compile).toList();
        this.ignoreMerges = ignoreMerges;
        this.addBosByDefault = addBosByDefault;
        this.hasBos = hasBos;
    }

    /**
     * The pre-tokenizer llama.cpp uses for a {@code tokenizer.ggml.pre} value.
     *
     * @throws IllegalArgumentException naming the value when it is unknown or not supported
     */
    public static PreTokenizer forName(String pre) {
        return switch (pre) {
            case "default" -> of(pre, List.of("[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]"));
            case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
                 "jina-v5-nano" -> new PreTokenizer(pre, List.of(LLAMA3), true, true, true);
            case "dbrx", "smaug-bpe" -> of(pre, List.of(LLAMA3));
            case "chatglm-bpe", "glm4" -> new PreTokenizer(pre, List.of(LLAMA3), false, false, false);
            case "deepseek-llm" -> of(pre, List.of("[\\r\\n]", DEEPSEEK_LLM_LETTERS, DEEPSEEK_LLM_PUNCT, "\\s+$",
                    DEEPSEEK_CJK, "\\p{N}+"));
            case "deepseek-coder" -> of(pre, List.of("[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", DEEPSEEK_CJK, "\\p{N}"));
            case "deepseek-v3", "hunyuan-dense", "joyai-llm" -> of(pre, List.of("\\p{N}{1,3}",
                    "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+", DEEPSEEK3_WORDS));
            case "falcon" -> of(pre, List.of("[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]"));
            case "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2" ->
                    of(pre, List.of("\\p{N}", GPT2));
            case "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
                 "modern-bert", "mpt", "olmo", "jais", "trillion", "granite-docling", "exaone4", "jina-v1-en",
                 "jina-v2-code", "roberta-bpe" -> of(pre, List.of(GPT2));
            case "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open" ->
                    of(pre, List.of(QWEN2));
            case "qwen35" -> of(pre, List.of(QWEN35));
            case "grok-2" -> of(pre, List.of(QWEN2));
            case "seed-coder" -> of(pre, List.of(SEED_CODER));
            case "bailingmoe", "bailingmoe2", "llada-moe" -> of(pre, List.of(BAILINGMOE));
            case "gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2" -> of(pre, List.of(GPT4O));
            case "tekken" -> new PreTokenizer(pre, List.of(TEKKEN), true, true, true);
            case "poro-chat", "bloom", "gpt3-finnish" -> of(pre, List.of(BLOOM));
            default -> throw new IllegalArgumentException(KNOWN_UNSUPPORTED.contains(pre)
                    ? "pre-tokenizer type '" + pre + "' (tokenizer.ggml.pre) is not supported by ferry"
                    : "unknown pre-tokenizer type '" + pre + "' (tokenizer.ggml.pre)");
        };
    }

    /** A pre-tokenizer from explicit expressions, applied in order (for tests and custom vocabularies). */
    public static PreTokenizer ofExpressions(String name, List<String> expressions) {
        return of(name, expressions);
    }

    private static PreTokenizer of(String name, List<String> expressions) {
        return new PreTokenizer(name, expressions, false, false, true);
    }

    public String name() {
        return name;
    }

    /** llama.cpp's ignore_merges: a word that is a whole vocabulary token is taken as is. */
    public boolean ignoreMerges() {
        return ignoreMerges;
    }

    /** Whether llama.cpp adds BOS for this pre-tokenizer when tokenizer.ggml.add_bos_token is absent. */
    public boolean addBosByDefault() {
        return addBosByDefault;
    }

    /** False where llama.cpp clears the default BOS id for this pre-tokenizer (GLM-4). */
    public boolean hasBos() {
        return hasBos;
    }

    /** Splits text into words; the words concatenate back to the text. */
    public List<String> split(String text) {
        int[] cps = text.codePoints().toArray();
        int[] lengths = {cps.length};
        int count = cps.length == 0 ? 0 : 1;
        Views views = new Views(cps);
        for (Step step : steps) {
            IntList next = new IntList(Math.max(16, count * 2));
            int start = 0;
            for (int i = 0; i < count; i++) {
                step.split(views, start, start + lengths[i], next);
                start += lengths[i];
            }
            lengths = next.values;
            count = next.size;
        }
        List<String> words = new ArrayList<>(count);
        int start = 0;
        for (int i = 0; i < count; i++) {
            words.add(new String(cps, start, lengths[i]));
            start += lengths[i];
        }
        return words;
    }

    /** Splits text into words, each as its UTF-8 bytes in byte-level BPE character form. */
    public List<String> splitByteEncoded(String text) {
        List<String> words = split(text);
        List<String> out = new ArrayList<>(words.size());
        for (String w : words) {
            out.add(ByteEncoding.encode(w.getBytes(StandardCharsets.UTF_8)));
        }
        return out;
    }

    @Override
    public String toString() {
        return "PreTokenizer[" + name + "]";
    }

    /** The two forms of the text an expression can run on, built once per split. */
    private static final class Views {
        private final int[] cps;
        private String collapsed;
        private String wide;
        private int[] wideIndexOfCp;
        private int[] cpIndexOfWide;

        Views(int[] cps) {
            this.cps = cps;
        }

        /** One character per code point: ASCII as is, everything else its category marker. */
        String collapsed() {
            if (collapsed == null) {
                char[] out = new char[cps.length];
                for (int i = 0; i < cps.length; i++) {
                    out[i] = collapse(cps[i]);
                }
                collapsed = new String(out);
            }
            return collapsed;
        }

        /** The text with non-ASCII whitespace replaced by a vertical tab, as llama.cpp's wide regex sees it. */
        String wide() {
            if (wide == null) {
                StringBuilder sb = new StringBuilder(cps.length + 8);
                wideIndexOfCp = new int[cps.length + 1];
                for (int i = 0; i < cps.length; i++) {
                    wideIndexOfCp[i] = sb.length();
                    int cp = cps[i];
                    sb.appendCodePoint(cp > 0x7F && isWhitespace(cp) ? WHITESPACE : cp);
                }
                wideIndexOfCp[cps.length] = sb.length();
                cpIndexOfWide = new int[sb.length() + 1];
                for (int i = 0; i <= cps.length; i++) {
                    cpIndexOfWide[wideIndexOfCp[i]] = i;
                }
                wide = sb.toString();
            }
            return wide;
        }
    }

    /** One expression and the form of text it runs on. */
    private record Step(Pattern pattern, boolean collapsed) {

        static Step compile(String expression) {
            boolean usesCategories = CATEGORY_CLASS.keySet().stream().anyMatch(expression::contains);
            if (usesCategories) {
                if (expression.chars().anyMatch(c -> c > 0x7F)) {
                    throw new IllegalArgumentException("pre-tokenizer expression mixes Unicode categories and non-ASCII"
                            + " characters: " + expression);
                }
                return new Step(Pattern.compile(collapse(expression)), true);
            }
            return new Step(Pattern.compile(anchorEnd(expression)), false);
        }

        /** Splits text[from, to) (code point indices) into matches and the gaps between them. */
        void split(Views views, int from, int to, IntList out) {
            if (collapsed) {
                splitIn(views.collapsed(), from, to, out, null, null);
            } else {
                String text = views.wide();
                splitIn(text, views.wideIndexOfCp[from], views.wideIndexOfCp[to], out, views.cpIndexOfWide,
                        views.wideIndexOfCp);
            }
        }

        private void splitIn(String text, int from, int to, IntList out, int[] cpOf, int[] unitOf) {
            Matcher m = pattern.matcher(text);
            m.region(from, to);
            int last = from;
            while (m.find()) {
                int s = m.start();
                int e = m.end();
                if (s > last) {
                    out.add(cpLength(last, s, cpOf));
                }
                if (e > s) {
                    out.add(cpLength(s, e, cpOf));
                }
                last = e;
            }
            if (last < to) {
                out.add(cpLength(last, to, cpOf));
            }
        }

        private static int cpLength(int from, int to, int[] cpOf) {
            return cpOf == null ? to - from : cpOf[to] - cpOf[from];
        }
    }

    /** Rewrites category escapes into marker classes, the way llama.cpp collapses its expressions. */
    private static String collapse(String expression) {
        StringBuilder out = new StringBuilder(expression.length() * 2);
        boolean inside = false;
        for (int i = 0; i < expression.length(); i++) {
            char c = expression.charAt(i);
            boolean escaped = i > 0 && expression.charAt(i - 1) == '\\';
            if (c == '[' && !escaped) {
                out.append('[');
                inside = true;
                continue;
            }
            if (inside && c == ']' && !escaped) {
                out.append(']');
                inside = false;
                continue;
            }
            if (c == '\\' && i + 3 < expression.length() && expression.charAt(i + 1) == 'p'
                    && expression.charAt(i + 2) == '{') {
                int close = expression.indexOf('}', i + 3);
                if (close > 0) {
                    String members = CATEGORY_CLASS.get(expression.substring(i, close + 1));
                    if (members != null) {
                        out.append(inside ? members : "[" + members + "]");
                        i = close;
                        continue;
                    }
                }
            }
            if (c == '$' && !escaped && !inside) {
                out.append("\\z");
                continue;
            }
            out.append(c);
        }
        return out.toString();
    }

    /** ECMAScript's '$' matches only at the end of the input; Java's also before a final newline. */
    private static String anchorEnd(String expression) {
        StringBuilder out = new StringBuilder(expression.length() + 4);
        boolean inside = false;
        for (int i = 0; i < expression.length(); i++) {
            char c = expression.charAt(i);
            boolean escaped = i > 0 && expression.charAt(i - 1) == '\\';
            if (c == '[' && !escaped) {
                inside = true;
            } else if (c == ']' && !escaped) {
                inside = false;
            }
            out.append(c == '$' && !escaped && !inside ? "\\z" : String.valueOf(c));
        }
        return out.toString();
    }

    private static char collapse(int cp) {
        if (cp < 0x80) {
            return (char) cp;
        }
        if (isWhitespace(cp)) {
            return WHITESPACE;
        }
        return switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK -> MARK;
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                 Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                 Character.OTHER_PUNCTUATION -> PUNCTUATION;
            case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL,
                 Character.OTHER_SYMBOL -> SYMBOL;
            default -> OTHER;
        };
    }

    /** Unicode White_Space, the set llama.cpp's tokenizer treats as whitespace. */
    static boolean isWhitespace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
                || cp == 0x3000;
    }

    /** A growable int list, enough for split lengths. */
    private static final class IntList {
        int[] values;
        int size;

        IntList(int capacity) {
            values = new int[capacity];
        }

        void add(int v) {
            if (size == values.length) {
                values = java.util.Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }
    }
}
