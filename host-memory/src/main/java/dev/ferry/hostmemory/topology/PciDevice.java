package dev.ferry.hostmemory.topology;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * A PCI device as sysfs sees it.
 *
 * @param busId normalised bus id, {@code dddd:bb:dd.f} in lower case
 * @param numaNode the node the device is attached to; empty when the kernel reports -1 (unknown)
 * @param link the PCIe link, empty when the device has none or sysfs does not say
 */
public record PciDevice(String busId, OptionalInt numaNode, Optional<PciLink> link) {

    /**
     * Normalises a bus id as CUDA ({@code 0000:3B:00.0}), nvidia-smi ({@code 00000000:3B:00.0})
     * or lspci ({@code 3b:00.0}) print it to the sysfs form {@code 0000:3b:00.0}.
     */
    public static String normalizeBusId(String busId) {
        String s = busId.strip().toLowerCase(java.util.Locale.ROOT);
        String[] parts = s.split(":");
        String domain;
        String bus;
        String devFn;
        if (parts.length == 3) {
            domain = parts[0];
            bus = parts[1];
            devFn = parts[2];
        } else if (parts.length == 2) {
            domain = "0";
            bus = parts[0];
            devFn = parts[1];
        } else {
            throw new IllegalArgumentException("bad PCI bus id '" + busId + "': expected [domain:]bus:device.function");
        }
        int dot = devFn.indexOf('.');
        if (dot < 0) {
            throw new IllegalArgumentException("bad PCI bus id '" + busId + "': missing .function");
        }
        try {
            long d = Long.parseLong(domain, 16);
            int b = Integer.parseInt(bus, 16);
            int dev = Integer.parseInt(devFn.substring(0, dot), 16);
            int fn = Integer.parseInt(devFn.substring(dot + 1), 16);
            if (d > 0xffff || b > 0xff || dev > 0x1f || fn > 7) {
                throw new IllegalArgumentException("bad PCI bus id '" + busId + "': field out of range");
            }
            return String.format("%04x:%02x:%02x.%x", d, b, dev, fn);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad PCI bus id '" + busId + "': not hexadecimal");
        }
    }
}
