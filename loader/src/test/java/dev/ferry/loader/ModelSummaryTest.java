package dev.ferry.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ModelSummaryTest {

    @Test
    void moeFixtureTotalsByRoleAndType() {
        try (GgufFile f = GgufFile.open(Fixtures.model("tiny-qwen3moe-F32.gguf"))) {
            ModelSummary s = ModelSummary.of(f);
            assertEquals("qwen3moe", s.architecture());
            assertEquals(f.fileSize(), s.fileSize());
            assertEquals(128, ((GgufValue.IntValue) s.hyperParameters().get("embedding_length")).value());
            assertEquals(8, ((GgufValue.IntValue) s.hyperParameters().get("expert_count")).value());
            assertEquals(List.of(GgmlType.F32), List.copyOf(s.byType().keySet()));
            assertEquals(51, s.total().tensors());
            assertEquals(4 * s.total().parameters(), s.total().bytes());
            assertEquals(f.fileSize() - f.dataOffset(), s.total().bytes());
            assertEquals(new ModelSummary.Totals(12, 12L * 128 * 64 * 8, 12L * 128 * 64 * 8 * 4),
                    s.byRole().get(TensorRole.ROUTED_EXPERTS));
            assertEquals(new ModelSummary.Totals(4, 4L * 128 * 8, 4L * 128 * 8 * 4), s.byRole().get(TensorRole.ROUTER));
            assertEquals(16, s.byRole().get(TensorRole.ATTENTION).tensors());
            assertEquals(17, s.byRole().get(TensorRole.NORM).tensors());
            assertEquals(1, s.byRole().get(TensorRole.EMBEDDING).tensors());
            assertEquals(1, s.byRole().get(TensorRole.OUTPUT).tensors());
            assertNull(s.byRole().get(TensorRole.DENSE_FFN));

            TokenizerSummary t = s.tokenizer();
            assertEquals("gpt2", t.model());
            assertEquals("qwen2", t.pre());
            assertEquals(512, t.vocabSize());
            assertEquals(253, t.mergeCount());
            assertEquals(new TokenizerSummary.SpecialToken("bos", 509, "<|endoftext|>"), t.special("bos").orElseThrow());
            assertEquals(new TokenizerSummary.SpecialToken("eos", 511, "<|im_end|>"), t.special("eos").orElseThrow());
            assertEquals(3, t.specialCount());
            assertEquals(3, t.tokenTypes().get("CONTROL"));
            assertEquals(509, t.tokenTypes().get("NORMAL"));
            assertEquals("[512 STRING: '!', '\"', '#', ...]", t.firstTokens());
        }
    }

    @ParameterizedTest
    @CsvSource({
            "token_embd.weight,                EMBEDDING",
            "output.weight,                    OUTPUT",
            "output_norm.weight,               NORM",
            "blk.0.attn_norm.weight,           NORM",
            "blk.0.attn_q_norm.weight,         NORM",
            "blk.7.attn_kv_a_norm.weight,      NORM",
            "blk.0.attn_q.weight,              ATTENTION",
            "blk.7.attn_kv_a_mqa.weight,       ATTENTION",
            "blk.7.attn_output.weight,         ATTENTION",
            "blk.3.ffn_up_exps.weight,         ROUTED_EXPERTS",
            "blk.3.ffn_down_exps.weight,       ROUTED_EXPERTS",
            "blk.3.ffn_gate_shexp.weight,      SHARED_EXPERTS",
            "blk.3.ffn_gate_inp_shexp.weight,  SHARED_EXPERTS",
            "blk.3.ffn_gate_inp.weight,        ROUTER",
            "blk.3.exp_probs_b.bias,           ROUTER",
            "blk.0.ffn_down.weight,            DENSE_FFN",
            "blk.0.ffn_gate.weight,            DENSE_FFN",
            "rope_freqs.weight,                OTHER"})
    void rolesFollowLlamaCppTensorNames(String name, TensorRole role) {
        assertEquals(role, TensorRole.of(name));
    }
}
