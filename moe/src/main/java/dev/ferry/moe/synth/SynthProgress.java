package dev.ferry.moe.synth;

/** Told after every chunk {@link ModelSynthesizer#write} writes; called on the writing thread. */
@FunctionalInterface
public interface SynthProgress {

    SynthProgress NONE = (written, total, tensor) -> { };

    /** {@code written} of {@code total} tensor-data bytes are done; {@code tensor} is being written. */
    void update(long written, long total, String tensor);
}
