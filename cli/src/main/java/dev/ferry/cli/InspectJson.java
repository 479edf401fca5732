package dev.ferry.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.loader.GgmlType;
import dev.ferry.loader.GgufArray;
import dev.ferry.loader.GgufValue;
import dev.ferry.loader.GgufValueType;
import dev.ferry.loader.ModelSummary;
import dev.ferry.loader.TensorRole;
import dev.ferry.loader.TokenizerSummary;
import dev.ferry.hostmemory.numa.NumaPolicy;
import dev.ferry.moe.plan.ExtraCopy;
import dev.ferry.moe.plan.OverrideRule;
import dev.ferry.moe.plan.PlacementPlan;
import dev.ferry.moe.plan.TensorPlacement;
import java.math.BigInteger;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Renders a {@link ModelSummary} as JSON for {@code ferry inspect --json}: file facts
 * ({@code file}, {@code file_size}, {@code gguf_version}, {@code alignment}, {@code data_offset}),
 * {@code architecture}, {@code name}, {@code parameters}, {@code tensor_count}, {@code tensor_bytes},
 * {@code hyper_parameters} (the {@code <arch>.*} keys without the prefix), {@code tokenizer},
 * {@code metadata} (every key with its GGUF type), {@code tensors}, {@code by_type} and {@code by_role};
 * with placement flags also {@code plan} (see {@link #plan(PlacementPlan)}).
 * Arrays longer than {@value #WHOLE_ARRAY_LIMIT} elements appear as {@code element_type},
 * {@code length} and the {@code first} {@value #ARRAY_HEAD} elements.
 */
final class InspectJson {

    /** Arrays up to this length are given whole; longer ones as length plus the first elements. */
    static final int WHOLE_ARRAY_LIMIT = 64;
    static final int ARRAY_HEAD = 8;

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private InspectJson() {
    }

    static String render(ModelSummary s) {
        return render(s, Optional.empty());
    }

    static String render(ModelSummary s, Optional<PlacementPlan> plan) {
        ObjectNode root = NODES.objectNode();
        root.put("file", s.file().toString());
        root.put("file_size", s.fileSize());
        root.put("gguf_version", s.version());
        root.put("alignment", s.alignment());
        root.put("data_offset", s.dataOffset());
        root.put("architecture", s.architecture());
        root.put("name", s.name());
        root.put("parameters", s.total().parameters());
        root.put("tensor_count", s.total().tensors());
        root.put("tensor_bytes", s.total().bytes());

        ObjectNode hyper = root.putObject("hyper_parameters");
        s.hyperParameters().forEach((k, v) -> hyper.set(k, value(v)));
        if (s.tokenizer() != null) {
            root.set("tokenizer", tokenizer(s.tokenizer()));
        }
        ArrayNode metadata = root.putArray("metadata");
        for (Map.Entry<String, GgufValue> e : s.metadata().asMap().entrySet()) {
            ObjectNode entry = metadata.addObject();
            entry.put("key", e.getKey());
            entry.put("type", e.getValue().type().name());
            entry.set("value", value(e.getValue()));
        }
        ArrayNode tensors = root.putArray("tensors");
        for (ModelSummary.Tensor t : s.tensors()) {
            ObjectNode n = tensors.addObject();
            n.put("name", t.name());
            n.put("type", t.type().name());
            ArrayNode shape = n.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            n.put("parameters", t.elements());
            n.put("bytes", t.bytes());
            n.put("offset", t.offset());
            n.put("role", roleId(t.role()));
        }
        ArrayNode byType = root.putArray("by_type");
        for (Map.Entry<GgmlType, ModelSummary.Totals> e : s.byType().entrySet()) {
            totals(byType.addObject().put("type", e.getKey().name()), e.getValue());
        }
        ArrayNode byRole = root.putArray("by_role");
        for (Map.Entry<TensorRole, ModelSummary.Totals> e : s.byRole().entrySet()) {
            totals(byRole.addObject().put("role", roleId(e.getKey())).put("label", e.getKey().label()), e.getValue());
        }
        plan.ifPresent(p -> root.set("plan", plan(p)));
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render the summary as JSON", e);
        }
    }

    /**
     * The placement plan: {@code device}, {@code gpu_layers}, {@code overrides}, {@code gpu} (bytes by
     * kind and {@code capacity_bytes}), {@code host} (bytes by kind, per {@code nodes}), {@code pinned},
     * {@code kv_cache_bytes}, {@code tensors} (home, nodes, copies, reason), notes, warnings,
     * {@code fits} and {@code problems}.
     */
    static ObjectNode plan(PlacementPlan p) {
        ObjectNode n = NODES.objectNode();
        n.put("device", p.gpu().description());
        n.put("gpu_present", p.gpu().present());
        n.put("layer_count", p.layerCount());
        n.put("gpu_layers", p.gpuLayers());
        n.put("first_gpu_layer", p.firstGpuLayer());
        n.put("context_length", p.contextLength());
        n.put("cache_type_k", p.options().cacheTypeK().name().toLowerCase(Locale.ROOT));
        n.put("cache_type_v", p.options().cacheTypeV().name().toLowerCase(Locale.ROOT));
        n.put("numa", p.options().numa().map(NumaPolicy::flagValue).orElse(null));
        n.put("mmap", p.options().mmap());
        ArrayNode rules = n.putArray("overrides");
        for (OverrideRule r : p.options().overrides().rules()) {
            rules.addObject().put("pattern", r.pattern()).put("buffer", r.target().name()).put("source", r.source());
        }
        PlacementPlan.GpuBudget g = p.gpuBudget();
        ObjectNode gpu = n.putObject("gpu");
        gpu.put("weights_bytes", g.weightBytes());
        gpu.put("kv_cache_bytes", g.kvBytes());
        gpu.put("compute_bytes", g.computeBytes());
        gpu.put("expert_upload_bytes", g.expertUploadBytes());
        gpu.put("total_bytes", g.totalBytes());
        g.capacity().ifPresentOrElse(c -> gpu.put("capacity_bytes", c), () -> gpu.putNull("capacity_bytes"));
        PlacementPlan.HostBudget h = p.hostBudget();
        ObjectNode host = n.putObject("host");
        host.put("placed_bytes", h.placedBytes());
        host.put("pinned_bytes", h.pinnedBytes());
        host.put("kv_cache_bytes", h.kvBytes());
        host.put("total_bytes", h.totalBytes());
        h.capacity().ifPresentOrElse(c -> host.put("capacity_bytes", c), () -> host.putNull("capacity_bytes"));
        host.put("read_in_place_bytes", p.readInPlaceBytes());
        host.put("mapped_file_bytes", p.mappedFileBytes());
        ArrayNode nodes = host.putArray("nodes");
        p.hostNodeBytes().forEach((node, bytes) -> nodes.addObject().put("node", node).put("bytes", bytes));
        PlacementPlan.PinnedCopy pc = p.pinned();
        ObjectNode pinned = n.putObject("pinned");
        pinned.put("mode", pc.mode().name().toLowerCase(Locale.ROOT));
        if (pc.node().isPresent()) {
            pinned.put("node", pc.node().getAsInt());
        } else {
            pinned.putNull("node");
        }
        pinned.put("copied_bytes", pc.copiedBytes());
        pinned.put("registered_bytes", pc.registeredBytes());
        pinned.put("staging_bytes", pc.stagingBytes());
        pinned.put("expert_bytes", pc.expertBytes());
        n.put("kv_cache_bytes", p.kvBytes());
        ArrayNode tensors = n.putArray("tensors");
        for (TensorPlacement t : p.tensors()) {
            ObjectNode tn = tensors.addObject();
            tn.put("name", t.name());
            tn.put("layer", t.layerLabel());
            tn.put("home", t.home().name());
            tn.put("bytes", t.bytes());
            ObjectNode homeNodes = tn.putObject("nodes");
            t.homeNodes().forEach((node, bytes) -> homeNodes.put(Integer.toString(node), bytes));
            ArrayNode copies = tn.putArray("copies");
            for (ExtraCopy c : t.copies()) {
                copies.addObject().put("kind", c.kind().label()).put("node", c.node()).put("bytes", c.bytes());
            }
            tn.put("reason", t.reason());
        }
        ArrayNode notes = n.putArray("notes");
        p.notes().forEach(notes::add);
        ArrayNode warnings = n.putArray("warnings");
        p.warnings().forEach(warnings::add);
        n.put("fits", p.fits());
        ArrayNode problems = n.putArray("problems");
        p.problems().forEach(problems::add);
        return n;
    }

    private static String roleId(TensorRole role) {
        return role.name().toLowerCase(Locale.ROOT);
    }

    private static void totals(ObjectNode n, ModelSummary.Totals t) {
        n.put("tensors", t.tensors());
        n.put("parameters", t.parameters());
        n.put("bytes", t.bytes());
    }

    private static ObjectNode tokenizer(TokenizerSummary t) {
        ObjectNode n = NODES.objectNode();
        n.put("model", t.model());
        n.put("pre", t.pre());
        n.put("vocab_size", t.vocabSize());
        n.put("merges", t.mergeCount());
        ObjectNode ids = n.putObject("special_ids");
        for (TokenizerSummary.SpecialToken sp : t.specialIds()) {
            ids.putObject(sp.role()).put("id", sp.id()).put("text", sp.text());
        }
        ObjectNode types = n.putObject("token_types");
        t.tokenTypes().forEach(types::put);
        n.put("special_count", t.specialCount());
        ArrayNode specials = n.putArray("specials");
        for (TokenizerSummary.SpecialToken sp : t.specials()) {
            specials.addObject().put("id", sp.id()).put("type", sp.role()).put("text", sp.text());
        }
        n.put("chat_template_chars", t.chatTemplateChars());
        return n;
    }

    /** A metadata value as JSON: scalars as themselves, arrays whole when short, else summarised. */
    static JsonNode value(GgufValue v) {
        return switch (v) {
            case GgufValue.IntValue i -> i.isHugeUnsigned()
                    ? NODES.numberNode(new BigInteger(Long.toUnsignedString(i.value()))) : NODES.numberNode(i.value());
            case GgufValue.FloatValue f -> Double.isFinite(f.value())
                    ? (f.type() == GgufValueType.FLOAT32 ? NODES.numberNode((float) f.value()) : NODES.numberNode(f.value()))
                    : NODES.textNode(Double.toString(f.value()));
            case GgufValue.BoolValue b -> NODES.booleanNode(b.value());
            case GgufValue.StringValue s -> NODES.textNode(s.value());
            case GgufArray a -> array(a);
        };
    }

    private static JsonNode array(GgufArray a) {
        if (a.size() <= WHOLE_ARRAY_LIMIT) {
            return elements(a, a.size());
        }
        ObjectNode n = NODES.objectNode();
        n.put("element_type", a.elementType().name());
        n.put("length", a.size());
        n.set("first", elements(a, ARRAY_HEAD));
        return n;
    }

    private static ArrayNode elements(GgufArray a, int n) {
        ArrayNode out = NODES.arrayNode();
        for (int i = 0; i < Math.min(n, a.size()); i++) {
            out.add(value(a.element(i)));
        }
        return out;
    }
}
