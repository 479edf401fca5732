package dev.ferry.moe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One case of a llama.cpp reference file ({@code llama-ref-v1}), teacher-forced the way
 * {@code compare_logits.py} does it: the prompt followed by the first 15 greedy tokens, with the
 * reference top-10 distribution for every position.
 */
public record LlamaReference(int[] ids, float[][][] top10) {

    /** A fixture model or reference file from the test classpath. */
    public static Path fixture(String name) {
        try {
            return Path.of(LlamaReference.class.getResource("/fixtures/models/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing fixture " + name, e);
        }
    }

    public static LlamaReference load(String refFile, String caseName) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(fixture(refFile).toFile());
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
            JsonNode gt = c.get("greedy_top10");
            for (int i = 1; i < gt.size(); i++) {
                dists.add(gt.get(i));
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
    public double maxError(float[][] ours) {
        double worst = 0;
        for (int p = 0; p < top10.length; p++) {
            for (float[] entry : top10[p]) {
                worst = Math.max(worst, Math.abs(ours[p][(int) entry[0]] - entry[1]));
            }
        }
        return worst;
    }
}
