package dev.ferry.cuda;

import java.util.Locale;

/** The user's device choice ({@code --device auto|cuda|sim}). */
public enum DeviceChoice {
    /** A real GPU when one works, otherwise no device (CPU only), saying why. */
    AUTO,
    /** A real GPU or a clear error. */
    CUDA,
    /** The simulated device, always available. */
    SIM;

    /** Parses {@code auto}, {@code cuda} or {@code sim} (case-insensitive). */
    public static DeviceChoice parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "auto" -> AUTO;
            case "cuda", "gpu" -> CUDA;
            case "sim", "simulated" -> SIM;
            default -> throw new IllegalArgumentException(
                    "--device: expected auto, cuda or sim, got '" + text + "'");
        };
    }
}
