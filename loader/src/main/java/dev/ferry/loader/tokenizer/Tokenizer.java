package dev.ferry.loader.tokenizer;

import dev.ferry.loader.GgufMetadata;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A GPT-2 style byte-level BPE tokenizer ({@code tokenizer.ggml.model = "gpt2"}) that tokenizes
 * and detokenizes exactly as llama.cpp does: special tokens are cut out of the text first
 * (longest first), the rest is split by the pre-tokenizer's expressions, each word is byte-encoded
 * and merged by rank, and leftovers fall back to single-character tokens.
 *
 * <p>Immutable and safe to share between threads.
 */
public final class Tokenizer {

    public static final String KEY_MODEL = "tokenizer.ggml.model";
    public static final String KEY_PRE = "tokenizer.ggml.pre";
    public static final String KEY_TOKENS = "tokenizer.ggml.tokens";
    public static final String KEY_MERGES = "tokenizer.ggml.merges";
    public static final String KEY_TOKEN_TYPE = "tokenizer.ggml.token_type";
    public static final String KEY_BOS = "tokenizer.ggml.bos_token_id";
    public static final String KEY_EOS = "tokenizer.ggml.eos_token_id";
    public static final String KEY_EOT = "tokenizer.ggml.eot_token_id";
    public static final String KEY_EOM = "tokenizer.ggml.eom_token_id";
    public static final String KEY_PAD = "tokenizer.ggml.padding_token_id";
    public static final String KEY_ADD_BOS = "tokenizer.ggml.add_bos_token";
    public static final String KEY_ADD_EOS = "tokenizer.ggml.add_eos_token";
    public static final String KEY_CHAT_TEMPLATE = "tokenizer.chat_template";

    /** No token. */
    public static final int NONE = -1;

    // llama.cpp's token attribute bits
    static final int ATTR_UNKNOWN = 1;
    static final int ATTR_UNUSED = 1 << 1;
    static final int ATTR_NORMAL = 1 << 2;
    static final int ATTR_CONTROL = 1 << 3;
    static final int ATTR_USER_DEFINED = 1 << 4;
    static final int ATTR_BYTE = 1 << 5;

    /** Token texts llama.cpp treats as end of generation (and forces to CONTROL). */
    private static final Set<String> EOG_TEXTS = Set.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
            "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
            "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
            "<\uFF5Cend\u2581of\u2581sentence\uFF5C>", "[e~[");
    /** Fill-in-the-middle token texts, forced to CONTROL when the file names no FIM ids (llama.cpp). */
    private static final Set<String> FIM_TEXTS = Set.of(
            "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\uFF5Cfim\u2581begin\uFF5C>", "<PRE>", "\u2581<PRE>",
            "<|code_prefix|>", "<|prefix|>",
            "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\uFF5Cfim\u2581hole\uFF5C>", "<SUF>", "\u2581<SUF>",
            "<|code_suffix|>", "<|suffix|>",
            "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\uFF5Cfim\u2581end\uFF5C>", "<MID>", "\u2581<MID>",
            "<|code_middle|>", "<|middle|>",
            "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "\u2581<PAD>",
            "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>",
            "<|file_sep|>", "<|fim_sep|>", "<fim-sep>", "<SEP>", "<filename>");

    private final String source;
    private final PreTokenizer pre;
    private final String[] texts;
    private final int[] attrs;
    private final Map<String, Integer> idOfText;
    private final MergeTable merges;
    private final String[] extraSymbols;
    private final int[] byteSymbol;
    private final int[] specialsLongestFirst;
    private final byte[][] pieces;
    private final boolean[] endOfGeneration;
    private final int bos;
    private final int eos;
    private final int eot;
    private final int eom;
    private final int pad;
    private final boolean addBos;
    private final boolean addEos;
    private final String chatTemplate;
    private final List<String> warnings;

    private Tokenizer(Builder b) {
        this.source = b.source;
        List<String> warn = new ArrayList<>();
        int n = b.tokens.size();
        if (n == 0) {
            throw new IllegalArgumentException(source + ": " + KEY_TOKENS + " is empty");
        }
        if (b.tokenTypes != null && b.tokenTypes.length < n) {
            throw new IllegalArgumentException(source + ": " + KEY_TOKEN_TYPE + " has " + b.tokenTypes.length
                    + " entries for " + n + " tokens");
        }
        if (b.pre == null) {
            warn.add(source + ": missing pre-tokenizer type (" + KEY_PRE + "), using 'default';"
                    + " generation quality will be degraded, consider regenerating the model");
        }
        this.pre = PreTokenizer.forName(b.pre == null ? "default" : b.pre);

        texts = new String[n];
        attrs = new int[n];
        idOfText = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) {
            String text = b.tokens.get(i);
            if (text == null || text.isEmpty()) {
                warn.add(source + ": empty token at index " + i);
                text = "[EMPTY_" + i + "]";
            }
            Integer previous = idOfText.putIfAbsent(text, i);
            if (previous != null) {
                throw new IllegalArgumentException(source + ": duplicate token in vocabulary: '" + text + "' has ids "
                        + previous + " and " + i);
            }
            texts[i] = text;
            attrs[i] = b.tokenTypes == null ? ATTR_NORMAL : attrOf(TokenType.ofCode(b.tokenTypes[i]));
        }

        // merges: parts that are not tokens get symbol ids past the vocabulary
        Map<String, Integer> extra = new HashMap<>();
        List<String> extraList = new ArrayList<>();
        merges = new MergeTable(b.merges.size());
        for (int rank = 0; rank < b.merges.size(); rank++) {
            String m = b.merges.get(rank);
            int space = m.indexOf(' ', 1);
            if (space < 0) {
                continue;
            }
            String left = m.substring(0, space);
            String right = m.substring(space + 1);
            if (right.isEmpty()) {
                continue;
            }
            merges.putIfAbsent(symbol(left, extra, extraList), symbol(right, extra, extraList), rank,
                    symbol(left + right, extra, extraList));
        }
        byteSymbol = new int[256];
        for (int v = 0; v < 256; v++) {
            byteSymbol[v] = symbol(String.valueOf(ByteEncoding.charOf(v)), extra, extraList);
        }
        extraSymbols = extraList.toArray(String[]::new);

        // special ids: llama.cpp's BPE defaults (11) unless the file names them
        int bosId = specialId(b.bos, pre.hasBos() ? 11 : NONE, KEY_BOS, n, warn);
        int eosId = specialId(b.eos, 11, KEY_EOS, n, warn);
        this.bos = bosId;
        this.eos = eosId;
        this.eot = specialId(b.eot, NONE, KEY_EOT, n, warn);
        this.eom = specialId(b.eom, NONE, KEY_EOM, n, warn);
        this.pad = specialId(b.pad, NONE, KEY_PAD, n, warn);
        this.addBos = b.addBos != null ? b.addBos : pre.addBosByDefault();
        this.addEos = b.addEos != null && b.addEos;
        if (addBos && bos == NONE) {
            throw new IllegalArgumentException(source + ": " + KEY_ADD_BOS + " is true, but " + KEY_BOS + " is not set");
        }
        if (addEos && eos == NONE) {
            throw new IllegalArgumentException(source + ": " + KEY_ADD_EOS + " is true, but " + KEY_EOS + " is not set");
        }

        // end-of-generation tokens, and the control attribute llama.cpp forces on them and on FIM tokens
        endOfGeneration = new boolean[n];
        boolean fimIdsGiven = b.fimIdsGiven;
        for (int i = 0; i < n; i++) {
            if (EOG_TEXTS.contains(texts[i])) {
                endOfGeneration[i] = true;
                forceControl(i, warn);
            } else if (!fimIdsGiven && FIM_TEXTS.contains(texts[i])) {
                forceControl(i, warn);
            }
        }
        for (int id : new int[] {eos, eot, eom}) {
            if (id != NONE) {
                endOfGeneration[id] = true;
            }
        }

        // special tokens are matched longest first; ties in id order
        specialsLongestFirst = java.util.stream.IntStream.range(0, n)
                .filter(i -> (attrs[i] & (ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN)) != 0)
                .boxed()
                .sorted(Comparator.comparingInt((Integer i) -> -texts[i].length()).thenComparingInt(i -> i))
                .mapToInt(Integer::intValue)
                .toArray();

        pieces = new byte[n][];
        for (int i = 0; i < n; i++) {
            pieces[i] = renderPiece(i);
        }
        this.chatTemplate = b.chatTemplate;
        this.warnings = Collections.unmodifiableList(warn);
    }

    /**
     * The tokenizer stored in a GGUF file's metadata.
     *
     * @throws IllegalArgumentException naming the file and key when the tokenizer is missing,
     *                                  malformed or of an unsupported kind
     */
    public static Tokenizer fromGguf(GgufMetadata md) {
        String src = md.source();
        if (!md.has(KEY_MODEL)) {
            throw new IllegalArgumentException(src + ": no tokenizer in the file (" + KEY_MODEL + " is missing)");
        }
        String model = md.getString(KEY_MODEL);
        if (!model.equals("gpt2")) {
            throw new IllegalArgumentException(src + ": tokenizer model '" + model + "' (" + KEY_MODEL
                    + ") is not supported; ferry supports 'gpt2' byte-level BPE");
        }
        if (!md.has(KEY_TOKENS)) {
            throw new IllegalArgumentException(src + ": cannot find tokenizer vocab (" + KEY_TOKENS + ")");
        }
        if (!md.has(KEY_MERGES)) {
            throw new IllegalArgumentException(src + ": cannot find tokenizer merges (" + KEY_MERGES + ")");
        }
        Builder b = builder(Arrays.asList(md.getStringArray(KEY_TOKENS)), Arrays.asList(md.getStringArray(KEY_MERGES)))
                .source(src)
                .pre(md.getString(KEY_PRE, null));
        if (md.has(KEY_TOKEN_TYPE)) {
            b.tokenTypes(md.getIntArray(KEY_TOKEN_TYPE));
        }
        b.bos = optionalId(md, KEY_BOS);
        b.eos = optionalId(md, KEY_EOS);
        b.eot = optionalId(md, KEY_EOT);
        b.eom = optionalId(md, KEY_EOM);
        b.pad = optionalId(md, KEY_PAD);
        b.fimIdsGiven = md.has("tokenizer.ggml.fim_pre_token_id") || md.has("tokenizer.ggml.prefix_token_id");
        if (md.has(KEY_ADD_BOS)) {
            b.addBos(md.getBool(KEY_ADD_BOS));
        }
        if (md.has(KEY_ADD_EOS)) {
            b.addEos(md.getBool(KEY_ADD_EOS));
        }
        b.chatTemplate(md.getString(KEY_CHAT_TEMPLATE, null));
        return b.build();
    }

    /** A builder from plain data: token texts in id order and merges as "left right" strings in rank order. */
    public static Builder builder(List<String> tokens, List<String> merges) {
        return new Builder(tokens, merges);
    }

    // ---------------------------------------------------------------- encoding

    /**
     * Token ids of a text.
     *
     * @param addSpecial   add BOS/EOS where the model asks for them (tokenizer.ggml.add_bos_token / add_eos_token)
     * @param parseSpecial match control tokens written in the text (like {@code <|im_start|>}); user-defined
     *                     tokens are matched either way, as in llama.cpp
     */
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        IntBuffer out = new IntBuffer(Math.max(16, text.length() / 3));
        if (addSpecial && addBos) {
            out.add(bos);
        }
        List<Fragment> fragments = partition(text, parseSpecial);
        BpeWork work = new BpeWork();
        for (Fragment f : fragments) {
            if (f.token() != NONE) {
                out.add(f.token());
            } else {
                for (String word : pre.splitByteEncoded(text.substring(f.start(), f.end()))) {
                    bpe(word, work, out);
                }
            }
        }
        if (addSpecial && addEos) {
            out.add(eos);
        }
        return out.toArray();
    }

    /** A piece of text, or a special token found in it. */
    private record Fragment(int start, int end, int token) {
        static Fragment text(int start, int end) {
            return new Fragment(start, end, NONE);
        }

        static Fragment special(int token) {
            return new Fragment(0, 0, token);
        }
    }

    /** Cuts special tokens out of the text, each token over all fragments, longest tokens first. */
    private List<Fragment> partition(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.isEmpty()) {
            return fragments;
        }
        fragments.add(Fragment.text(0, text.length()));
        for (int id : specialsLongestFirst) {
            if (!parseSpecial && (attrs[id] & (ATTR_CONTROL | ATTR_UNKNOWN)) != 0) {
                continue;
            }
            String special = texts[id];
            List<Fragment> next = null;
            for (int i = 0; i < fragments.size(); i++) {
                Fragment f = fragments.get(i);
                int match = f.token() == NONE ? text.indexOf(special, f.start()) : -1;
                if (match < 0 || match + special.length() > f.end()) {
                    if (next != null) {
                        next.add(f);
                    }
                    continue;
                }
                if (next == null) {
                    next = new ArrayList<>(fragments.subList(0, i));
                }
                int start = f.start();
                while (match >= 0 && match + special.length() <= f.end()) {
                    if (match > start) {
                        next.add(Fragment.text(start, match));
                    }
                    next.add(Fragment.special(id));
                    start = match + special.length();
                    match = text.indexOf(special, start);
                }
                if (start < f.end()) {
                    next.add(Fragment.text(start, f.end()));
                }
            }
            if (next != null) {
                fragments = next;
            }
        }
        return fragments;
    }

    /** Reusable buffers for merging one word's symbols. */
    private static final class BpeWork {
        int[] symbol = new int[64];
        int[] length = new int[64];
        int[] prev = new int[64];
        int[] next = new int[64];
        long[] heap = new long[128];
        int heapSize;

        void ensure(int n) {
            if (symbol.length < n) {
                int c = Math.max(n, symbol.length * 2);
                symbol = new int[c];
                length = new int[c];
                prev = new int[c];
                next = new int[c];
            }
            heapSize = 0;
        }

        void push(long v) {
            if (heapSize == heap.length) {
                heap = Arrays.copyOf(heap, heapSize * 2);
            }
            int i = heapSize++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (heap[parent] <= v) {
                    break;
                }
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = v;
        }

        long pop() {
            long top = heap[0];
            long last = heap[--heapSize];
            int i = 0;
            int half = heapSize >>> 1;
            while (i < half) {
                int child = 2 * i + 1;
                if (child + 1 < heapSize && heap[child + 1] < heap[child]) {
                    child++;
                }
                if (last <= heap[child]) {
                    break;
                }
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = last;
            return top;
        }
    }

    /** Merges one byte-encoded word by rank (lowest rank first, leftmost on ties) and emits its tokens. */
    private void bpe(String word, BpeWork w, IntBuffer out) {
        int n = word.length();
        if (n == 0) {
            return;
        }
        if (pre.ignoreMerges()) {
            Integer whole = idOfText.get(word);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        w.ensure(n);
        for (int i = 0; i < n; i++) {
            w.symbol[i] = byteSymbol[ByteEncoding.byteOf(word.charAt(i))];
            w.length[i] = 1;
            w.prev[i] = i - 1;
            w.next[i] = i + 1 < n ? i + 1 : -1;
        }
        for (int i = 1; i < n; i++) {
            queuePair(w, i - 1, i);
        }
        while (w.heapSize > 0) {
            long entry = w.pop();
            int rank = (int) (entry >>> 32);
            int left = (int) entry;
            int right = w.next[left];
            if (w.length[left] == 0 || right < 0) {
                continue;
            }
            long found = merges.find(w.symbol[left], w.symbol[right]);
            // a stale entry: one side has merged since, so the pair is no longer this merge
            if (found == MergeTable.ABSENT || (int) (found >>> 32) != rank) {
                continue;
            }
            w.symbol[left] = (int) found;
            w.length[left] += w.length[right];
            w.length[right] = 0;
            w.next[left] = w.next[right];
            if (w.next[right] >= 0) {
                w.prev[w.next[right]] = left;
            }
            if (w.prev[left] >= 0) {
                queuePair(w, w.prev[left], left);
            }
            if (w.next[left] >= 0) {
                queuePair(w, left, w.next[left]);
            }
        }
        for (int i = 0; i >= 0; i = w.next[i]) {
            int s = w.symbol[i];
            if (s < texts.length) {
                out.add(s);
            } else {
                // llama.cpp looks each byte of the symbol's UTF-8 text up alone: only ASCII ones can be tokens
                String text = extraSymbols[s - texts.length];
                for (int k = 0; k < text.length(); k++) {
                    char c = text.charAt(k);
                    Integer id = c < 0x80 ? idOfText.get(String.valueOf(c)) : null;
                    if (id != null) {
                        out.add(id);
                    }
                }
            }
        }
    }

    private void queuePair(BpeWork w, int left, int right) {
        long found = merges.find(w.symbol[left], w.symbol[right]);
        if (found != MergeTable.ABSENT) {
            w.push((found & 0xFFFFFFFF00000000L) | left);
        }
    }

    // ---------------------------------------------------------------- decoding

    /**
     * The bytes a token stands for. Control and unknown tokens give their text only when
     * {@code renderSpecial} is set, and nothing otherwise, like llama.cpp's token_to_piece.
     */
    public byte[] piece(int id, boolean renderSpecial) {
        return pieceRef(id, renderSpecial).clone();
    }

    /** The same as {@link #piece} without copying; callers must not modify it. */
    byte[] pieceRef(int id, boolean renderSpecial) {
        checkId(id);
        if (!renderSpecial && (attrs[id] & (ATTR_CONTROL | ATTR_UNKNOWN)) != 0) {
            return EMPTY;
        }
        return pieces[id];
    }

    private static final byte[] EMPTY = new byte[0];

    /** The bytes of a token sequence (concatenated pieces). */
    public byte[] decodeBytes(int[] ids, boolean renderSpecial) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) {
            out.writeBytes(pieceRef(id, renderSpecial));
        }
        return out.toByteArray();
    }

    /** The text of a token sequence; invalid UTF-8 becomes U+FFFD. */
    public String decode(int[] ids, boolean renderSpecial) {
        return new String(decodeBytes(ids, renderSpecial), StandardCharsets.UTF_8);
    }

    /** A decoder for generated tokens that only ever returns whole characters. */
    public StreamingDecoder streamingDecoder(boolean renderSpecial) {
        return new StreamingDecoder(this, renderSpecial);
    }

    private byte[] renderPiece(int id) {
        int a = attrs[id];
        String text = texts[id];
        if ((a & (ATTR_UNKNOWN | ATTR_CONTROL | ATTR_USER_DEFINED)) != 0) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        if ((a & ATTR_NORMAL) != 0) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
            text.codePoints().forEach(cp -> {
                int v = ByteEncoding.byteOf(cp);
                if (v >= 0) {
                    out.write(v);
                } else {
                    // llama.cpp's rendering of a character outside the byte mapping
                    byte[] utf8 = Character.toString(cp).getBytes(StandardCharsets.UTF_8);
                    out.writeBytes(("[UNK_BYTE_0x" + HexFormat.of().formatHex(utf8) + text + "]")
                            .getBytes(StandardCharsets.UTF_8));
                }
            });
            return out.toByteArray();
        }
        if ((a & ATTR_BYTE) != 0 && text.length() == 6 && text.startsWith("<0x") && text.endsWith(">")) {
            try {
                return new byte[] {(byte) Integer.parseInt(text.substring(3, 5), 16)};
            } catch (NumberFormatException e) {
                return EMPTY;
            }
        }
        return EMPTY;
    }

    // ---------------------------------------------------------------- vocabulary

    public int vocabSize() {
        return texts.length;
    }

    /** The token's text as stored in the vocabulary (byte-encoded form for normal tokens). */
    public String tokenText(int id) {
        checkId(id);
        return texts[id];
    }

    /** The id of a token with exactly this vocabulary text. */
    public Optional<Integer> idOf(String tokenText) {
        return Optional.ofNullable(idOfText.get(tokenText));
    }

    /** The type llama.cpp works with (after its fixes, e.g. "<|im_end|>" is always CONTROL). */
    public TokenType tokenType(int id) {
        checkId(id);
        int a = attrs[id];
        if ((a & ATTR_CONTROL) != 0) {
            return TokenType.CONTROL;
        }
        if ((a & ATTR_USER_DEFINED) != 0) {
            return TokenType.USER_DEFINED;
        }
        if ((a & ATTR_UNKNOWN) != 0) {
            return TokenType.UNKNOWN;
        }
        if ((a & ATTR_BYTE) != 0) {
            return TokenType.BYTE;
        }
        if ((a & ATTR_UNUSED) != 0) {
            return TokenType.UNUSED;
        }
        return (a & ATTR_NORMAL) != 0 ? TokenType.NORMAL : TokenType.UNDEFINED;
    }

    /** Whether generation stops at this token (EOS, EOT, EOM and llama.cpp's list such as "<|im_end|>"). */
    public boolean isEndOfGeneration(int id) {
        return id >= 0 && id < endOfGeneration.length && endOfGeneration[id];
    }

    /** BOS id or {@link #NONE}. */
    public int bos() {
        return bos;
    }

    /** EOS id or {@link #NONE}. */
    public int eos() {
        return eos;
    }

    /** EOT id or {@link #NONE}. */
    public int eot() {
        return eot;
    }

    /** Padding id or {@link #NONE}. */
    public int pad() {
        return pad;
    }

    public boolean addBos() {
        return addBos;
    }

    public boolean addEos() {
        return addEos;
    }

    public PreTokenizer preTokenizer() {
        return pre;
    }

    public int mergeCount() {
        return merges.size();
    }

    /** The Jinja chat template stored with the tokenizer ({@code tokenizer.chat_template}). */
    public Optional<String> chatTemplate() {
        return Optional.ofNullable(chatTemplate);
    }

    /** Problems found while loading that llama.cpp also only warns about. */
    public List<String> warnings() {
        return warnings;
    }

    @Override
    public String toString() {
        return "Tokenizer[" + source + ", gpt2 BPE, pre=" + pre.name() + ", " + texts.length + " tokens, "
                + merges.size() + " merges]";
    }

    // ---------------------------------------------------------------- helpers

    private void checkId(int id) {
        if (id < 0 || id >= texts.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + texts.length
                    + " tokens (" + source + ")");
        }
    }

    private void forceControl(int id, List<String> warn) {
        if ((attrs[id] & ATTR_CONTROL) == 0) {
            warn.add(source + ": control-looking token " + id + " '" + texts[id] + "' was not control-type;"
                    + " treating it as control");
            attrs[id] |= ATTR_CONTROL;
        }
    }

    private int symbol(String text, Map<String, Integer> extra, List<String> extraList) {
        Integer id = idOfText.get(text);
        if (id != null) {
            return id;
        }
        return extra.computeIfAbsent(text, t -> {
            extraList.add(t);
            return texts.length + extraList.size() - 1;
        });
    }

    private int specialId(Long given, int dflt, String key, int n, List<String> warn) {
        int id = dflt != NONE && dflt >= n ? NONE : dflt;
        if (given == null) {
            return id;
        }
        if (given < 0 || given >= n) {
            warn.add(source + ": bad special token: '" + key + "' = " + given + ", using default id " + id);
            return id;
        }
        return (int) (long) given;
    }

    private static Long optionalId(GgufMetadata md, String key) {
        return md.has(key) ? md.getLong(key) : null;
    }

    private static int attrOf(TokenType type) {
        return switch (type) {
            case UNDEFINED -> 0;
            case NORMAL -> ATTR_NORMAL;
            case UNKNOWN -> ATTR_UNKNOWN;
            case CONTROL -> ATTR_CONTROL;
            case USER_DEFINED -> ATTR_USER_DEFINED;
            case UNUSED -> ATTR_UNUSED;
            case BYTE -> ATTR_BYTE;
        };
    }

    /** A growable int array. */
    private static final class IntBuffer {
        private int[] values;
        private int size;

        IntBuffer(int capacity) {
            values = new int[capacity];
        }

        void add(int v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        int[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }

    /** Plain-data construction of a tokenizer; {@link #build()} validates everything. */
    public static final class Builder {
        private final List<String> tokens;
        private final List<String> merges;
        private String source = "tokenizer";
        private String pre;
        private int[] tokenTypes;
        private Long bos;
        private Long eos;
        private Long eot;
        private Long eom;
        private Long pad;
        private boolean fimIdsGiven;
        private Boolean addBos;
        private Boolean addEos;
        private String chatTemplate;

        private Builder(List<String> tokens, List<String> merges) {
            this.tokens = List.copyOf(tokens);
            this.merges = List.copyOf(merges);
        }

        /** What the data came from (a file name), used in messages. */
        public Builder source(String source) {
            this.source = source;
            return this;
        }

        /** The tokenizer.ggml.pre name; null means missing (a warning and the default expressions). */
        public Builder pre(String pre) {
            this.pre = pre;
            return this;
        }

        /** tokenizer.ggml.token_type codes per token; without them every token is NORMAL. */
        public Builder tokenTypes(int[] tokenTypes) {
            this.tokenTypes = tokenTypes.clone();
            return this;
        }

        public Builder bos(int id) {
            this.bos = (long) id;
            return this;
        }

        public Builder eos(int id) {
            this.eos = (long) id;
            return this;
        }

        public Builder eot(int id) {
            this.eot = (long) id;
            return this;
        }

        public Builder pad(int id) {
            this.pad = (long) id;
            return this;
        }

        public Builder addBos(boolean addBos) {
            this.addBos = addBos;
            return this;
        }

        public Builder addEos(boolean addEos) {
            this.addEos = addEos;
            return this;
        }

        public Builder chatTemplate(String chatTemplate) {
            this.chatTemplate = chatTemplate;
            return this;
        }

        public Tokenizer build() {
            return new Tokenizer(this);
        }
    }
}
