package dev.ferry.cuda;

import java.util.Set;

/** Which kernels a device can launch, and why others are missing. */
public interface KernelSupport {

    /** Names of the kernels that can be launched. */
    Set<String> available();

    default boolean has(String name) {
        return available().contains(name);
    }

    /** One line: where the kernels come from, or why they are missing. */
    String status();
}
