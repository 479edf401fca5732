package dev.ferry.moe.synth;

import dev.ferry.hostmemory.ThreadWorkerPool;
import dev.ferry.loader.GgmlType;
import dev.ferry.loader.GgufMetadata;
import dev.ferry.loader.GgufWriter;
import dev.ferry.loader.tokenizer.Tokenizer;
import dev.ferry.moe.quant.BlockEncoder;
import dev.ferry.moe.quant.Encoders;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Writes random-weight GGUF models with real architectures' shapes and metadata, so models of
 * any size can be benchmarked without downloads. Weights are pseudo-normal (std 0.02 for
 * matrices, 1 +- 0.01 for norms), quantized per {@link QuantMix}; the tokenizer is a real GPT-2
 * byte-level BPE ({@link SynthVocabulary}). Tensor data is generated and written in chunks of
 * rows spread over worker threads, so memory use stays small for files of any size, and the
 * same spec, type and seed give a byte-identical file whatever the thread count.
 */
public final class ModelSynthesizer {

    /** Bumped whenever the bytes written for the same spec, type and seed change. */
    public static final int FORMAT_VERSION = 1;
    public static final String KEY_VERSION = "ferry.synth.version";
    public static final String KEY_SEED = "ferry.synth.seed";
    public static final String KEY_TYPE = "ferry.synth.type";

    static final float MATRIX_STD = 0.02f;
    static final float NORM_STD = 0.01f;
    /** Output bytes generated per step; every worker encodes a share of the rows of one chunk. */
    private static final long CHUNK_BYTES = 16L << 20;

    private final SynthSpec spec;
    private final SynthType type;
    private final long seed;
    private final List<SynthTensor> tensors;

    public ModelSynthesizer(SynthSpec spec, SynthType type, long seed) {
        this.spec = Objects.requireNonNull(spec, "spec");
        this.type = Objects.requireNonNull(type, "type");
        this.seed = seed;
        this.tensors = plan(spec, new QuantMix(spec, type));
    }

    public SynthSpec spec() {
        return spec;
    }

    public SynthType type() {
        return type;
    }

    public long seed() {
        return seed;
    }

    /** The tensors in file order, with their types. */
    public List<SynthTensor> tensors() {
        return tensors;
    }

    /** Bytes of tensor data (the file adds the header and alignment padding). */
    public long dataBytes() {
        return tensors.stream().mapToLong(SynthTensor::byteSize).sum();
    }

    private static List<SynthTensor> plan(SynthSpec s, QuantMix mix) {
        List<SynthTensor> out = new ArrayList<>();
        long embd = s.embeddingLength();
        long q = (long) s.headCount() * s.headDim();
        long kv = (long) s.headCountKv() * s.headDim();
        out.add(matrix(mix, "token_embd", -1, embd, s.vocabSize()));
        for (int l = 0; l < s.layers(); l++) {
            out.add(norm(l, "attn_norm", embd));
            out.add(matrix(mix, "attn_q", l, embd, q));
            out.add(matrix(mix, "attn_k", l, embd, kv));
            out.add(matrix(mix, "attn_v", l, embd, kv));
            out.add(matrix(mix, "attn_output", l, q, embd));
            out.add(norm(l, "attn_q_norm", s.headDim()));
            out.add(norm(l, "attn_k_norm", s.headDim()));
            out.add(norm(l, "ffn_norm", embd));
            if (s.isMixtureOfExperts()) {
                long ff = s.expertFeedForwardLength();
                out.add(matrix(mix, "ffn_gate_inp", l, embd, s.expertCount()));
                out.add(matrix(mix, "ffn_gate_exps", l, embd, ff, s.expertCount()));
                out.add(matrix(mix, "ffn_up_exps", l, embd, ff, s.expertCount()));
                out.add(matrix(mix, "ffn_down_exps", l, ff, embd, s.expertCount()));
            } else {
                long ff = s.feedForwardLength();
                out.add(matrix(mix, "ffn_gate", l, embd, ff));
                out.add(matrix(mix, "ffn_up", l, embd, ff));
                out.add(matrix(mix, "ffn_down", l, ff, embd));
            }
        }
        out.add(norm(-1, "output_norm", embd));
        if (!s.tiedEmbeddings()) {
            out.add(matrix(mix, "output", -1, embd, s.vocabSize()));
        }
        return List.copyOf(out);
    }

    private static SynthTensor matrix(QuantMix mix, String role, int layer, long... shape) {
        GgmlType t = mix.typeOf(role, layer, shape.length, shape[0]);
        return new SynthTensor(name(role, layer), role, layer, t, shape, 0.0f, MATRIX_STD);
    }

    private static SynthTensor norm(int layer, String role, long length) {
        return new SynthTensor(name(role, layer), role, layer, GgmlType.F32, new long[] {length}, 1.0f, NORM_STD);
    }

    private static String name(String role, int layer) {
        return (layer < 0 ? "" : "blk." + layer + ".") + role + ".weight";
    }

    /** The metadata llama.cpp reads for the architecture, the tokenizer and ferry's stamp. */
    public GgufMetadata metadata() {
        String a = spec.architecture();
        GgufMetadata.Builder md = GgufMetadata.builder()
                .putString("general.architecture", a)
                .putString("general.type", "model")
                .putString("general.name", spec.name())
                .putString("general.description", "random weights: synthesized by ferry synth (" + spec.name() + ", "
                        + spec.layers() + " layers, " + type + ", seed " + seed + "); not a trained model")
                .putUInt32(a + ".context_length", spec.contextLength())
                .putUInt32(a + ".embedding_length", spec.embeddingLength())
                .putUInt32(a + ".block_count", spec.layers())
                .putUInt32(a + ".feed_forward_length", spec.feedForwardLength())
                .putUInt32(a + ".attention.head_count", spec.headCount())
                .putUInt32(a + ".attention.head_count_kv", spec.headCountKv())
                .putFloat32(a + ".rope.freq_base", spec.ropeFreqBase())
                .putFloat32(a + ".attention.layer_norm_rms_epsilon", spec.rmsEpsilon())
                .putUInt32(a + ".attention.key_length", spec.headDim())
                .putUInt32(a + ".attention.value_length", spec.headDim());
        if (spec.isMixtureOfExperts()) {
            md.putUInt32(a + ".expert_count", spec.expertCount())
                    .putUInt32(a + ".expert_used_count", spec.expertUsedCount())
                    .putUInt32(a + ".expert_feed_forward_length", spec.expertFeedForwardLength());
        }
        md.putUInt32("general.file_type", type.fileType())
                .putUInt32("general.quantization_version", 2);
        SynthVocabulary v = SynthVocabulary.of(spec.vocabSize());
        md.putString(Tokenizer.KEY_MODEL, "gpt2")
                .putString(Tokenizer.KEY_PRE, SynthVocabulary.PRE_TOKENIZER)
                .putStrings(Tokenizer.KEY_TOKENS, v.tokens().toArray(String[]::new))
                .putInt32s(Tokenizer.KEY_TOKEN_TYPE, v.tokenTypes())
                .putStrings(Tokenizer.KEY_MERGES, v.merges().toArray(String[]::new))
                .putUInt32(Tokenizer.KEY_BOS, v.endOfText())
                .putUInt32(Tokenizer.KEY_EOS, v.imEnd())
                .putUInt32(Tokenizer.KEY_PAD, v.endOfText())
                .putBool(Tokenizer.KEY_ADD_BOS, false)
                .putString(Tokenizer.KEY_CHAT_TEMPLATE, SynthVocabulary.CHAT_TEMPLATE)
                .putUInt32(KEY_VERSION, FORMAT_VERSION)
                .putString(KEY_TYPE, type.name())
                .putUInt64(KEY_SEED, seed);
        return md.build();
    }

    /**
     * Writes the model to {@code out} (replacing it) with {@code threads} worker threads. When
     * writing fails after the file was created, the partial file is deleted.
     */
    public SynthResult write(Path out, int threads, SynthProgress progress) {
        if (threads < 1) {
            throw new IllegalArgumentException("-t: thread count must be positive, got " + threads);
        }
        long start = System.nanoTime();
        GgufWriter.Builder layout = GgufWriter.builder().metadata(metadata());
        for (SynthTensor t : tensors) {
            layout.tensor(t.name(), t.type(), t.shape());
        }
        long total = dataBytes();
        boolean done = false;
        GgufWriter created = layout.create(out);
        long fileSize = created.fileSize();
        try {
            try (GgufWriter writer = created;
                 ThreadWorkerPool pool = new ThreadWorkerPool(threads, "ferry-synth");
                 Arena arena = Arena.ofShared()) {
                long maxRowBytes = tensors.stream().mapToLong(t -> t.type().rowBytes(t.rowLength())).max().orElse(1);
                MemorySegment chunk = arena.allocate(Math.max(CHUNK_BYTES, maxRowBytes), 64);
                long maxRow = tensors.stream().mapToLong(SynthTensor::rowLength).max().orElse(1);
                float[][] rowBuffers = new float[threads][Math.toIntExact(maxRow)];
                long written = 0;
                for (SynthTensor t : tensors) {
                    written = writeTensor(t, writer, pool, chunk, rowBuffers, written, total, progress);
                }
            }
            done = true;
        } finally {
            if (!done) {
                deleteQuietly(out);
            }
        }
        return new SynthResult(out, fileSize, tensors.size(), spec.parameterCount(),
                (System.nanoTime() - start) / 1e9);
    }

    private long writeTensor(SynthTensor t, GgufWriter writer, ThreadWorkerPool pool, MemorySegment chunk,
                             float[][] rowBuffers, long written, long total, SynthProgress progress) {
        GaussianRows rng = new GaussianRows(seed, t.name());
        BlockEncoder encoder = Encoders.of(t.type());
        int rowLength = Math.toIntExact(t.rowLength());
        long rowBytes = t.type().rowBytes(rowLength);
        long rows = t.rows();
        long rowsPerChunk = Math.max(1, chunk.byteSize() / rowBytes);
        for (long first = 0; first < rows; first += rowsPerChunk) {
            long begin = first;
            long count = Math.min(rowsPerChunk, rows - first);
            pool.run((worker, workers) -> {
                float[] row = rowBuffers[worker];
                MemorySegment src = MemorySegment.ofArray(row);
                long from = begin + count * worker / workers;
                long to = begin + count * (worker + 1) / workers;
                for (long r = from; r < to; r++) {
                    rng.fill(r, row, rowLength, t.mean(), t.std());
                    encoder.encodeRow(src, 0, chunk, (r - begin) * rowBytes, rowLength);
                }
            });
            writer.append(t.name(), chunk.asSlice(0, count * rowBytes));
            written += count * rowBytes;
            progress.update(written, total, t.name());
        }
        return written;
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // The original failure is what the caller needs to see.
        }
    }
}
