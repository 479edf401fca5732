package dev.ferry.cuda.pcie;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.cuda.Device;
import dev.ferry.cuda.DeviceBuffer;
import dev.ferry.cuda.DeviceInfo;
import dev.ferry.cuda.Gemm;
import dev.ferry.cuda.KernelSupport;
import dev.ferry.cuda.PinnedHostBuffer;
import dev.ferry.cuda.Stream;
import dev.ferry.cuda.TransferStats;
import dev.ferry.cuda.sim.SimulatedDevice;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PcieBenchmarkTest {

    @TempDir
    Path dir;

    /** A simulated device that files no transfer records, as a device without event timing would. */
    private record Unrecorded(Device inner, TransferStats empty) implements Device {
        public DeviceInfo info() { return inner.info(); }
        public DeviceBuffer allocate(long bytes) { return inner.allocate(bytes); }
        public long allocatedBytes() { return inner.allocatedBytes(); }
        public long freeBytes() { return inner.freeBytes(); }
        public PinnedHostBuffer allocatePinned(long bytes) { return inner.allocatePinned(bytes); }
        public PinnedHostBuffer register(MemorySegment memory, OptionalInt node) { return inner.register(memory, node); }
        public Stream createStream() { return inner.createStream(); }
        public Stream defaultStream() { return inner.defaultStream(); }
        public void copyToDevice(PinnedHostBuffer src, long so, DeviceBuffer dst, long doff, long bytes) {
            inner.copyToDevice(src, so, dst, doff, bytes);
        }
        public void copyToHost(DeviceBuffer src, long so, PinnedHostBuffer dst, long doff, long bytes) {
            inner.copyToHost(src, so, dst, doff, bytes);
        }
        public KernelSupport kernels() { return inner.kernels(); }
        public Gemm gemm() { return inner.gemm(); }
        public TransferStats transferStats() { return empty; }
        public void synchronize() { inner.synchronize(); }
        public void close() { inner.close(); }
    }

    @Test
    void simulatedCopiesAreTimedByTheLinkModel() {
        try (Device device = SimulatedDevice.standard()) {
            PcieReport report = PcieBenchmark.runOnDevice(device, Optional.empty(), NumaHostPlacement.system(),
                    new PcieOptions(List.of(1L << 20), 2, dir));
            assertTrue(report.results().stream().allMatch(r -> r.hostCallMedianGBps().isEmpty()));
            // pinned sources at the default 25 GB/s with 10 us per copy
            double modelled = (1 << 20) / (10e-6 + (1 << 20) / 25e9) / 1e9;
            assertEquals(modelled, report.results().get(0).medianGBps(), 1e-3);
        }
    }

    @Test
    void aDeviceThatRecordsNoCopyIsTimedOnTheHostInsteadOfFailing() {
        try (Device device = new Unrecorded(SimulatedDevice.standard(), new TransferStats())) {
            PcieReport report = PcieBenchmark.runOnDevice(device, Optional.empty(), NumaHostPlacement.system(),
                    new PcieOptions(List.of(1L << 20), 2, dir));
            assertTrue(report.results().size() >= 16, "cells: " + report.results().size());
            double modelled = (1 << 20) / (10e-6 + (1 << 20) / 25e9) / 1e9;
            for (PcieResult r : report.results()) {
                assertTrue(Double.isFinite(r.medianGBps()) && r.medianGBps() > 0, r.toString());
                assertTrue(Math.abs(r.medianGBps() - modelled) > 1e-6, "not the model's rate: " + r);
            }
        }
    }
}
