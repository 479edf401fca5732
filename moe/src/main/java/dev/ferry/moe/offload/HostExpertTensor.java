package dev.ferry.moe.offload;

import dev.ferry.loader.GgmlType;
import dev.ferry.moe.kernel.ExpertWeights;
import dev.ferry.moe.placement.ExpertProjection;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * One host expert tensor: the compute copy the CPU reads (a placed buffer or the file mapping).
 * {@code data.byteSize() == experts * expertBytes}; {@code node} is where its pages live, when known.
 */
public record HostExpertTensor(int layer, ExpertProjection projection, GgmlType type, int experts, long expertBytes,
                               MemorySegment data, OptionalInt node) {

    public HostExpertTensor {
        Objects.requireNonNull(projection, "projection");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(node, "node");
        String name = layer >= 0 ? projection.tensorName(layer) : "expert tensor";
        if (layer < 0) {
            throw new IllegalArgumentException("expert tensor layer must be >= 0, got " + layer);
        }
        if (experts < 1 || expertBytes < 1) {
            throw new IllegalArgumentException(name + ": needs at least one expert of at least one byte, got " + experts
                    + " experts of " + expertBytes + " bytes");
        }
        if (type.isRemoved() || expertBytes % type.blockBytes() != 0) {
            throw new IllegalArgumentException(name + ": " + expertBytes + " bytes per expert is not a whole number of "
                    + type + " blocks");
        }
        if (data.byteSize() != Math.multiplyExact(expertBytes, (long) experts)) {
            throw new IllegalArgumentException(name + ": " + experts + " experts of " + expertBytes + " bytes need "
                    + expertBytes * experts + " bytes, data has " + data.byteSize());
        }
        if (!data.isNative()) {
            throw new IllegalArgumentException(name + ": expert data must be native memory (a placed buffer or a mapping)");
        }
        if (node.isPresent() && node.getAsInt() < 0) {
            throw new IllegalArgumentException(name + ": NUMA node must be >= 0, got " + node.getAsInt());
        }
    }

    /** The tensor of {@code weights} (layer {@code layer}, projection {@code projection}) with its node. */
    public static HostExpertTensor of(int layer, ExpertProjection projection, ExpertWeights weights, OptionalInt node) {
        return new HostExpertTensor(layer, projection, weights.type(), weights.experts(), weights.expertBytes(),
                weights.data(), node);
    }

    /** Expert {@code e}'s bytes, a view of {@link #data}. */
    public MemorySegment expert(int e) {
        Objects.checkIndex(e, experts);
        return data.asSlice(e * expertBytes, expertBytes);
    }

    /** All bytes of the tensor. */
    public long bytes() {
        return data.byteSize();
    }

    /** Weights of one expert: {@code expertBytes / blockBytes * blockSize}. */
    public long paramsPerExpert() {
        return expertBytes / type.blockBytes() * type.blockSize();
    }

    /** The GGUF name, e.g. {@code blk.3.ffn_up_exps.weight}. */
    public String name() {
        return projection.tensorName(layer);
    }
}
