package dev.ferry.moe.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.loader.GgmlType;
import dev.ferry.loader.GgufFile;
import dev.ferry.loader.TensorInfo;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class QuantMixTest {

    private static Path fixture(String name) {
        try {
            return Path.of(QuantMixTest.class.getResource("/fixtures/models/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, GgmlType> planTypes(SynthSpec spec, SynthType type) {
        return new ModelSynthesizer(spec, type, 1).tensors().stream()
                .collect(Collectors.toMap(SynthTensor::name, SynthTensor::type));
    }

    private static TreeSet<Integer> layersWith(Map<String, GgmlType> types, String role, GgmlType type, int layers) {
        return IntStream.range(0, layers).filter(l -> types.get("blk." + l + "." + role + ".weight") == type)
                .boxed().collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void q4KmOfQwen3MoeGivesQ6kToTheLayersLlamaCppPicks() {
        Map<String, GgmlType> types = planTypes(SynthPreset.QWEN3_30B_A3B.spec(), SynthType.Q4_K_M);
        // use_more_bits(i, 48): i < 6, i >= 42, or (i - 6) % 3 == 2
        List<Integer> expected = List.of(0, 1, 2, 3, 4, 5, 8, 11, 14, 17, 20, 23, 26, 29, 32, 35, 38, 41,
                42, 43, 44, 45, 46, 47);
        assertEquals(new TreeSet<>(expected), layersWith(types, "attn_v", GgmlType.Q6_K, 48));
        assertEquals(new TreeSet<>(expected), layersWith(types, "ffn_down_exps", GgmlType.Q6_K, 48));
        assertEquals(48 - expected.size(), layersWith(types, "attn_v", GgmlType.Q4_K, 48).size());
        assertEquals(48, layersWith(types, "ffn_gate_exps", GgmlType.Q4_K, 48).size());
        assertEquals(48, layersWith(types, "attn_output", GgmlType.Q4_K, 48).size());
        assertEquals(48, layersWith(types, "attn_k", GgmlType.Q4_K, 48).size());
        assertEquals(48, layersWith(types, "ffn_gate_inp", GgmlType.F32, 48).size());
        assertEquals(48, layersWith(types, "attn_q_norm", GgmlType.F32, 48).size());
        assertEquals(GgmlType.Q6_K, types.get("output.weight"));
        assertEquals(GgmlType.Q4_K, types.get("token_embd.weight"));
        assertEquals(GgmlType.F32, types.get("output_norm.weight"));
    }

    @Test
    void useMoreBitsMatchesLlamaCppForFourLayers() {
        assertEquals(List.of(2, 3), IntStream.range(0, 4).filter(l -> QuantMix.useMoreBits(l, 4)).boxed().toList());
    }

    /** llama-quantize's own output for the fixture shapes, Q5_K attn_output of the 8-expert model included. */
    @Test
    void q4KmMatchesLlamaQuantizeOnTheSmallFixture() {
        SynthSpec small = new SynthSpec("qwen3moe", "small-qwen3moe-k", 4, 256, 4, 2, 64, 512, 8, 2, 256, 512, 256,
                1e6f, 1e-6f, false);
        assertSameTypes("small-qwen3moe-k-Q4_K_M.gguf", planTypes(small, SynthType.Q4_K_M), name -> null);
    }

    @Test
    void q5KmOfQwen3MoeIsQ5kWithQ6kWhereQ4KmHasIt() {
        Map<String, GgmlType> q5 = planTypes(SynthPreset.QWEN3_30B_A3B.spec(), SynthType.Q5_K_M);
        Map<String, GgmlType> q4 = planTypes(SynthPreset.QWEN3_30B_A3B.spec(), SynthType.Q4_K_M);
        assertEquals(q4.keySet(), q5.keySet());
        for (String name : q4.keySet()) {
            GgmlType expected = q4.get(name) == GgmlType.Q4_K ? GgmlType.Q5_K : q4.get(name);
            assertEquals(expected, q5.get(name), name);
        }
        assertEquals(48, layersWith(q5, "ffn_gate_exps", GgmlType.Q5_K, 48).size());
        assertEquals(17, SynthType.Q5_K_M.fileType());
    }

    @Test
    void q4_0AndQ6kMatchLlamaQuantizeOnTheFixtures() {
        SynthSpec tiny = SynthPreset.TINY_QWEN3MOE.spec().withVocabSize(512);
        assertSameTypes("tiny-qwen3moe-Q4_0.gguf", planTypes(tiny, SynthType.Q4_0), name -> null);
        assertSameTypes("tiny-qwen3moe-Q8_0.gguf", planTypes(tiny, SynthType.Q8_0), name -> null);
        SynthSpec small = new SynthSpec("qwen3moe", "small-qwen3moe-k", 4, 256, 4, 2, 64, 512, 8, 2, 256, 512, 256,
                1e6f, 1e-6f, false);
        assertSameTypes("small-qwen3moe-k-Q6_K.gguf", planTypes(small, SynthType.Q6_K), name -> null);
    }

    private static void assertSameTypes(String fixture, Map<String, GgmlType> ours,
                                        Function<String, GgmlType> knownDifference) {
        try (GgufFile f = GgufFile.open(fixture(fixture))) {
            assertEquals(f.tensors().size(), ours.size(), fixture + ": tensor count");
            for (TensorInfo t : f.tensors()) {
                GgmlType expected = knownDifference.apply(t.name()) != null ? knownDifference.apply(t.name()) : t.type();
                assertEquals(expected, ours.get(t.name()), fixture + ": " + t.name());
            }
        }
    }

    @Test
    void rowsThatAreNotWholeKQuantBlocksFallBackToQ8_0() {
        Map<String, GgmlType> types = planTypes(SynthPreset.TINY_QWEN3MOE.spec(), SynthType.Q4_K_M);
        assertTrue(types.values().stream().allMatch(t -> t == GgmlType.Q8_0 || t == GgmlType.F32), types::toString);
        assertEquals(GgmlType.Q8_0, types.get("blk.0.ffn_down_exps.weight"));
    }

    @Test
    void tiedEmbeddingsGiveTheEmbeddingTheOutputType() {
        Map<String, GgmlType> types = planTypes(SynthPreset.QWEN3_0_6B.spec(), SynthType.Q4_K_M);
        assertEquals(GgmlType.Q6_K, types.get("token_embd.weight"));
        assertTrue(!types.containsKey("output.weight"));
        assertEquals(GgmlType.Q6_K, types.get("blk.0.ffn_down.weight"));
        assertEquals(GgmlType.Q4_K, types.get("blk.4.ffn_down.weight"));
    }

    @Test
    void floatTypesKeepEveryTensorFloat() {
        Map<String, GgmlType> f16 = planTypes(SynthPreset.TINY_QWEN3.spec(), SynthType.F16);
        assertEquals(GgmlType.F16, f16.get("output.weight"));
        assertEquals(GgmlType.F16, f16.get("blk.0.ffn_up.weight"));
        assertEquals(GgmlType.F32, f16.get("blk.0.ffn_norm.weight"));
        assertTrue(planTypes(SynthPreset.TINY_QWEN3.spec(), SynthType.F32).values().stream()
                .allMatch(t -> t == GgmlType.F32));
    }
}
