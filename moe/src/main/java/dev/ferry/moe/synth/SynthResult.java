package dev.ferry.moe.synth;

import java.nio.file.Path;

/** What {@link ModelSynthesizer#write} wrote: the file, its size, tensors and parameters, and how long it took. */
public record SynthResult(Path path, long fileSize, int tensorCount, long parameterCount, double seconds) {
}
