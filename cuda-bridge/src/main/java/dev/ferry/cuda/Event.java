package dev.ferry.cuda;

/** A point in a stream's work, recorded by {@link Stream#record()}. */
public interface Event extends AutoCloseable {

    /** True when all work before the event has finished. */
    boolean isComplete();

    /** Blocks until all work before the event has finished. */
    void synchronize();

    /**
     * Seconds between {@code earlier} and this event (both complete), on the device's clock:
     * measured on a GPU, modelled on the simulated device.
     */
    double secondsSince(Event earlier);

    @Override
    void close();
}
