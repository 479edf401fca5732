package dev.ferry.moe.plan;

/** The one place a tensor lives while the model runs. */
public enum Home {
    /** Device memory of the GPU. */
    GPU,
    /** Host RAM, placed per {@code --numa} (or the file mapping / first-touch without it). */
    HOST
}
