package dev.ferry.moe.placement;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The teacher-forced token ids of one case of a llama.cpp reference file ({@code llama-ref-v1})
 * and llama.cpp's top-10 logits at each position, to measure our logits against.
 */
record LlamaReference(int[] ids, float[][][] top10) {

    static LlamaReference load(String refFile, String caseName) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Runs.fixture(refFile).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (JsonNode c : root.get("cases")) {
            if (!c.get("name").asText().equals(caseName)) {
                continue;
            }
            List<Integer> ids = new ArrayList<>();
            c.get("prompt_ids").forEach(n -> ids.add(n.asInt()));
            JsonNode greedy = c.get("greedy_ids");
            for (int i = 0; i < greedy.size() - 1; i++) {
                ids.add(greedy.get(i).asInt());
            }
            List<JsonNode> dists = new ArrayList<>();
            c.get("batch_top10").forEach(dists::add);
            JsonNode later = c.get("greedy_top10");
            for (int i = 1; i < later.size(); i++) {
                dists.add(later.get(i));
            }
            float[][][] top = new float[dists.size()][][];
            for (int p = 0; p < top.length; p++) {
                JsonNode d = dists.get(p);
                top[p] = new float[d.size()][2];
                for (int j = 0; j < d.size(); j++) {
                    top[p][j][0] = d.get(j).get(0).asInt();
                    top[p][j][1] = (float) d.get(j).get(1).asDouble();
                }
            }
            return new LlamaReference(ids.stream().mapToInt(Integer::intValue).toArray(), top);
        }
        throw new IllegalArgumentException("no case " + caseName + " in " + refFile);
    }

    /** The largest difference between our logits and llama.cpp's over every reference top-10 entry. */
    double maxError(float[][] ours) {
        double worst = 0;
        for (int p = 0; p < top10.length; p++) {
            for (float[] entry : top10[p]) {
                worst = Math.max(worst, Math.abs(ours[p][(int) entry[0]] - entry[1]));
            }
        }
        return worst;
    }
}
