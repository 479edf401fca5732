package dev.ferry.moe.plan;

import dev.ferry.loader.GgufFile;
import dev.ferry.loader.GgufMetadata;
import dev.ferry.loader.TensorInfo;
import dev.ferry.moe.model.Architectures;
import dev.ferry.moe.model.ModelConfig;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The dimensions a plan needs (layer count, KV widths, activation widths), from the file's
 * architecture when ferry supports it, else straight from the {@code <arch>.*} metadata so that
 * {@code inspect} can plan any GGUF file.
 *
 * @param ffnWidth the widest feed-forward activation per token: max(feed_forward_length, expert
 *     width x experts used)
 * @param note how the shape was read when the architecture is not one ferry runs
 */
public record ModelShape(int layers, int embedding, int heads, int keyWidth, int valueWidth, int vocab, int ffnWidth,
                         int trainedContext, Optional<String> note) {

    private static final Pattern LAYER = Pattern.compile("^blk\\.(\\d+)\\.");

    public static ModelShape of(GgufFile file) {
        try {
            ModelConfig c = Architectures.of(file).readConfig(file);
            return new ModelShape(c.layerCount(), c.embeddingLength(), c.headCount(), c.keyWidth(), c.valueWidth(),
                    c.vocabSize(), Math.max(c.feedForwardLength(), c.expertFeedForwardLength() * c.expertUsedCount()),
                    c.contextLengthTrained(), Optional.empty());
        } catch (RuntimeException e) {
            return fromMetadata(file, e.getMessage());
        }
    }

    private static ModelShape fromMetadata(GgufFile file, String why) {
        GgufMetadata md = file.metadata();
        String arch = md.has(GgufMetadata.ARCHITECTURE) ? md.getString(GgufMetadata.ARCHITECTURE) : "";
        String p = arch + ".";
        int maxLayer = -1;
        for (TensorInfo t : file.tensors()) {
            Matcher m = LAYER.matcher(t.name());
            if (m.find()) {
                maxLayer = Math.max(maxLayer, Integer.parseInt(m.group(1)));
            }
        }
        int layers = md.getInt(p + "block_count", maxLayer + 1);
        int embd = md.getInt(p + "embedding_length", 0);
        int heads = md.getInt(p + "attention.head_count", 0);
        int kvHeads = md.getInt(p + "attention.head_count_kv", heads);
        int keyLength = md.getInt(p + "attention.key_length", heads > 0 ? embd / heads : 0);
        int valueLength = md.getInt(p + "attention.value_length", keyLength);
        int vocab = md.has("tokenizer.ggml.tokens") ? md.getArray("tokenizer.ggml.tokens").size() : 0;
        int ffn = Math.max(md.getInt(p + "feed_forward_length", 0),
                md.getInt(p + "expert_feed_forward_length", 0) * md.getInt(p + "expert_used_count", 0));
        String note = "sizes read from the " + (arch.isEmpty() ? "file's" : arch + ".*") + " metadata (" + oneLine(why) + ")"
                + (kvHeads * keyLength == 0 ? "; KV cache size unknown, counted as 0" : "");
        return new ModelShape(Math.max(layers, 0), embd, heads, kvHeads * keyLength, kvHeads * valueLength, vocab, ffn,
                md.getInt(p + "context_length", 0), Optional.of(note));
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replace('\n', ' ');
    }
}
