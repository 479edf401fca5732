package dev.ferry.moe.arch;

import dev.ferry.moe.model.ModelConfig;
import java.lang.foreign.MemorySegment;

/**
 * How a session evaluates a run of tokens: checks it against the context and the vocabulary,
 * then runs it in micro-batches of at most {@code -ub} tokens and projects the logits that were
 * asked for (every position, or only the last one).
 */
final class MicroBatches {

    /** The steps of one micro-batch, implemented by each session. */
    interface Steps {
        /** Runs the transformer over {@code n} tokens starting at {@code tokens[offset]} and advances the position. */
        void forward(int[] tokens, int offset, int n);

        /** Final norm and output head for rows {@code [from, from+n)} of the last micro-batch. */
        void project(int from, int n, MemorySegment logits, long logitsOffset);
    }

    private MicroBatches() {
    }

    static void evaluate(ModelConfig c, int position, int contextLength, int microBatch, int[] tokens, int offset, int count,
                         boolean allLogits, MemorySegment logits, Steps steps) {
        if (count < 1) {
            throw new IllegalArgumentException("nothing to evaluate");
        }
        if (position + count > contextLength) {
            throw new IllegalStateException("the prompt and generation need " + (position + count)
                    + " positions but the context holds " + contextLength + " (raise -c)");
        }
        for (int i = offset; i < offset + count; i++) {
            if (tokens[i] < 0 || tokens[i] >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " is outside the vocabulary of " + c.vocabSize());
            }
        }
        long vocab = c.vocabSize();
        int done = 0;
        while (done < count) {
            int n = Math.min(microBatch, count - done);
            steps.forward(tokens, offset + done, n);
            if (allLogits) {
                steps.project(0, n, logits, (long) done * vocab);
            } else if (done + n == count) {
                steps.project(n - 1, 1, logits, 0);
            }
            done += n;
        }
    }
}
