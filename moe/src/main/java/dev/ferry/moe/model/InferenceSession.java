package dev.ferry.moe.model;

import dev.ferry.moe.kernel.KernelWarmUp;
import java.lang.foreign.MemorySegment;

/**
 * The state of one sequence: its KV cache and activation buffers. Tokens are evaluated in
 * order; {@link #position()} is the number already in the cache.
 */
public interface InferenceSession extends AutoCloseable {

    ModelConfig config();

    /** Number of tokens already evaluated (the next token's position). */
    int position();

    /** Context length of this session. */
    int contextLength();

    /**
     * Evaluates {@code count} tokens from {@code tokens[offset..]} at the next positions, in
     * micro-batches. When {@code allLogits} is true, {@code logits} receives {@code count x vocab}
     * floats (row per token); otherwise only the last token's {@code vocab} floats.
     */
    void evaluate(int[] tokens, int offset, int count, boolean allLogits, MemorySegment logits);

    /** Forgets tokens from {@code position} on (e.g. to start a new prompt). */
    void rewind(int position);

    /**
     * Compiles the CPU kernels this session's weights need before the first prompt, leaving the
     * cache and position as they are. Worth it once per process: kernels compiled before the
     * first forward pass run faster for the rest of it (see {@link KernelWarmUp}).
     */
    default KernelWarmUp.Report warmUp() {
        return KernelWarmUp.Report.NONE;
    }

    @Override
    void close();
}
