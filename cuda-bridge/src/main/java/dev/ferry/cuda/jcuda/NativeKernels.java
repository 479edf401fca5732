package dev.ferry.cuda.jcuda;

import dev.ferry.cuda.KernelSupport;
import dev.ferry.cuda.kernels.KernelNames;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The kernels of {@code native/}, loaded from the fatbin resource into the current context.
 * When the resource is missing (the build had no nvcc) or the driver rejects it (too old for
 * the PTX), no kernel is available and {@link #status()} says why.
 */
final class NativeKernels implements KernelSupport {

    /** Class-path location of the fatbin built by the {@code native} module. */
    static final String RESOURCE = "/dev/ferry/native/ferry_kernels.fatbin";

    private final Map<String, CUfunction> functions;
    private final String status;
    private final CUmodule module;

    private NativeKernels(Map<String, CUfunction> functions, String status, CUmodule module) {
        this.functions = Map.copyOf(functions);
        this.status = status;
        this.module = module;
    }

    /** Unloads the module (the context must be current). */
    void unload() {
        if (module != null) {
            JCudaDriver.cuModuleUnload(module);
        }
    }

    /** Reads the fatbin from the class path, if it was built. */
    static Optional<byte[]> fatbin() {
        try (InputStream in = NativeKernels.class.getResourceAsStream(RESOURCE)) {
            return in == null ? Optional.empty() : Optional.of(in.readAllBytes());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Loads the module into the current context. */
    static NativeKernels load() {
        Optional<byte[]> image = fatbin();
        if (image.isEmpty()) {
            return new NativeKernels(Map.of(), "kernels missing: " + RESOURCE
                    + " is not in the jar (built without nvcc; run scripts/gpu-check or build on a machine with nvcc)", null);
        }
        CUmodule module = new CUmodule();
        int rc = JCudaDriver.cuModuleLoadData(module, image.get());
        if (rc != CUresult.CUDA_SUCCESS) {
            return new NativeKernels(Map.of(), "kernels missing: the driver rejected " + RESOURCE + " ("
                    + CUresult.stringFor(rc) + "; CUDA 13 PTX needs driver 580 or newer)", null);
        }
        Map<String, CUfunction> found = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (String name : KernelNames.all()) {
            CUfunction function = new CUfunction();
            if (JCudaDriver.cuModuleGetFunction(function, module, name) == CUresult.CUDA_SUCCESS) {
                found.put(name, function);
            } else {
                missing.add(name);
            }
        }
        String status = found.size() + " CUDA kernels loaded from " + RESOURCE + " (" + image.get().length + " bytes)"
                + (missing.isEmpty() ? "" : "; missing " + missing);
        return new NativeKernels(found, status, module);
    }

    Optional<CUfunction> function(String name) {
        return Optional.ofNullable(functions.get(name));
    }

    @Override
    public Set<String> available() {
        return functions.keySet();
    }

    @Override
    public String status() {
        return status;
    }
}
