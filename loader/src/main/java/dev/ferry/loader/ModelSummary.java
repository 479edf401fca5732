package dev.ferry.loader;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a user needs to know about a GGUF model, computed from the header alone (no tensor data is
 * read, so it is instant on a file of any size): architecture and hyper-parameters, tokenizer,
 * tensor table, and totals by type and by role.
 *
 * @param file            the file as opened
 * @param fileSize        bytes of the file
 * @param version         GGUF version
 * @param alignment       data alignment
 * @param dataOffset      start of the data section
 * @param architecture    {@code general.architecture}, or null when absent
 * @param name            {@code general.name}, or null when absent
 * @param hyperParameters every {@code <architecture>.*} key, in file order, keyed without the prefix
 * @param metadata        every key in file order (long arrays summarise themselves)
 * @param tokenizer       tokenizer summary, or null when the file has no {@code tokenizer.ggml.model}
 * @param tensors         the tensor table in file order
 * @param byType          totals per ggml type, in type id order
 * @param byRole          totals per role, in role order, roles without tensors left out
 * @param total           totals over all tensors
 */
public record ModelSummary(Path file, long fileSize, int version, long alignment, long dataOffset,
                           String architecture, String name, Map<String, GgufValue> hyperParameters,
                           GgufMetadata metadata, TokenizerSummary tokenizer, List<Tensor> tensors,
                           Map<GgmlType, Totals> byType, Map<TensorRole, Totals> byRole, Totals total) {

    public ModelSummary {
        hyperParameters = Collections.unmodifiableMap(new LinkedHashMap<>(hyperParameters));
        tensors = List.copyOf(tensors);
        byType = Collections.unmodifiableMap(new LinkedHashMap<>(byType));
        byRole = Collections.unmodifiableMap(new LinkedHashMap<>(byRole));
    }

    /** One row of the tensor table. */
    public record Tensor(String name, GgmlType type, long[] shape, long elements, long bytes, long offset,
                         TensorRole role) {
        public Tensor {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }
    }

    /** Tensor count, parameter (element) count and bytes of a group of tensors. */
    public record Totals(int tensors, long parameters, long bytes) {
        Totals plus(Tensor t) {
            return new Totals(tensors + 1, parameters + t.elements(), bytes + t.bytes());
        }

        static final Totals NONE = new Totals(0, 0, 0);
    }

    public static ModelSummary of(GgufFile file) {
        GgufMetadata md = file.metadata();
        String arch = md.has(GgufMetadata.ARCHITECTURE) && md.get(GgufMetadata.ARCHITECTURE)
                instanceof GgufValue.StringValue s ? s.value() : null;
        String name = md.find("general.name").filter(v -> v instanceof GgufValue.StringValue)
                .map(v -> ((GgufValue.StringValue) v).value()).orElse(null);
        Map<String, GgufValue> hyper = new LinkedHashMap<>();
        if (arch != null) {
            String prefix = arch + ".";
            md.asMap().forEach((k, v) -> {
                if (k.startsWith(prefix)) {
                    hyper.put(k.substring(prefix.length()), v);
                }
            });
        }
        List<Tensor> rows = new ArrayList<>(file.tensors().size());
        Map<GgmlType, Totals> byType = new TreeMap<>();
        Map<TensorRole, Totals> byRole = new EnumMap<>(TensorRole.class);
        Totals total = Totals.NONE;
        for (TensorInfo t : file.tensors()) {
            Tensor row = new Tensor(t.name(), t.type(), t.shape(), t.elementCount(), t.byteSize(), t.offset(),
                    TensorRole.of(t.name()));
            rows.add(row);
            byType.merge(t.type(), Totals.NONE.plus(row), (a, b) -> a.plus(row));
            byRole.merge(row.role(), Totals.NONE.plus(row), (a, b) -> a.plus(row));
            total = total.plus(row);
        }
        return new ModelSummary(file.path(), file.fileSize(), file.version(), file.alignment(), file.dataOffset(),
                arch, name, hyper, md, TokenizerSummary.of(md), rows, byType, byRole, total);
    }
}
