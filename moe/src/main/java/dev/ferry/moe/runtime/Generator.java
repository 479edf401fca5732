package dev.ferry.moe.runtime;

import dev.ferry.loader.tokenizer.StreamingDecoder;
import dev.ferry.loader.tokenizer.Tokenizer;
import dev.ferry.moe.model.InferenceSession;
import dev.ferry.moe.sampling.Sampler;
import dev.ferry.moe.sampling.SamplingParams;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.Consumer;

/**
 * The generation loop: the prompt in micro-batches, then one token at a time, sampled and
 * streamed out as complete UTF-8 text, until an end-of-generation token, {@code -n} tokens or
 * the end of the context.
 */
public final class Generator implements AutoCloseable {

    private final InferenceSession session;
    private final Tokenizer tokenizer;
    private final Sampler sampler;
    private final float[] logits;
    private final MemorySegment logitsSegment;
    private final Arena arena = Arena.ofShared();

    public Generator(InferenceSession session, Tokenizer tokenizer, SamplingParams params) {
        this.session = session;
        this.tokenizer = tokenizer;
        int vocab = session.config().vocabSize();
        this.sampler = new Sampler(params, vocab, session.contextLength());
        this.logits = new float[vocab];
        this.logitsSegment = arena.allocate((long) vocab * Float.BYTES, 64);
    }

    public long seed() {
        return sampler.seed();
    }

    /**
     * Evaluates {@code prompt} and generates up to {@code maxTokens} tokens ({@code < 0}: until
     * the context is full), passing text to {@code out} as soon as characters are complete.
     */
    public GenerationStats generate(int[] prompt, int maxTokens, Consumer<String> out) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty: nothing to continue from");
        }
        if (prompt.length >= session.contextLength() - session.position()) {
            throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens but the context holds "
                    + session.contextLength() + " (raise -c)");
        }
        for (int id : prompt) {
            sampler.accept(id);
        }
        long t0 = System.nanoTime();
        session.evaluate(prompt, 0, prompt.length, false, logitsSegment);
        long t1 = System.nanoTime();
        StreamingDecoder decoder = tokenizer.streamingDecoder(false);
        int[] one = new int[1];
        int generated = 0;
        boolean endOfGeneration = false;
        int budget = maxTokens < 0 ? Integer.MAX_VALUE : maxTokens;
        while (generated < budget) {
            MemorySegment.copy(logitsSegment, ValueLayout.JAVA_FLOAT, 0, logits, 0, logits.length);
            int token = sampler.sample(logits);
            sampler.accept(token);
            generated++;
            if (tokenizer.isEndOfGeneration(token)) {
                endOfGeneration = true;
                break;
            }
            String text = decoder.accept(token);
            if (!text.isEmpty()) {
                out.accept(text);
            }
            if (generated == budget || session.position() >= session.contextLength()) {
                break;
            }
            one[0] = token;
            session.evaluate(one, 0, 1, false, logitsSegment);
        }
        String rest = decoder.finish();
        if (!rest.isEmpty()) {
            out.accept(rest);
        }
        long t2 = System.nanoTime();
        return new GenerationStats(prompt.length, (t1 - t0) / 1e6, generated, (t2 - t1) / 1e6, endOfGeneration);
    }

    @Override
    public void close() {
        arena.close();
    }
}
