package dev.ferry.moe.arch;

import dev.ferry.moe.LlamaReference;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The agreement rules of {@code fixtures/tools/compare_logits.py}, applied to full logits:
 * {@code exact} (max error 2e-3, top-1 equal where the reference margin is at least 1e-2) and
 * {@code quant} (median error at most 0.1, top-1 equal at 95% of positions with margin >= 0.1).
 */
record LogitsAgreement(double maxError, double medianError, int top1Agree, int top1Judged) {

    static LogitsAgreement compare(LlamaReference ref, float[][] ours, double minMargin) {
        List<Double> errors = new ArrayList<>();
        int judged = 0;
        int agree = 0;
        for (int p = 0; p < ref.top10().length; p++) {
            float[][] dist = ref.top10()[p];
            for (float[] entry : dist) {
                errors.add((double) Math.abs(ours[p][(int) entry[0]] - entry[1]));
            }
            if (dist[0][1] - dist[1][1] >= minMargin) {
                judged++;
                agree += argmax(ours[p]) == (int) dist[0][0] ? 1 : 0;
            }
        }
        Collections.sort(errors);
        double median = errors.size() % 2 == 1 ? errors.get(errors.size() / 2)
                : (errors.get(errors.size() / 2 - 1) + errors.get(errors.size() / 2)) / 2;
        return new LogitsAgreement(errors.getLast(), median, agree, judged);
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    boolean exactPasses() {
        return maxError <= 2e-3 && top1Agree == top1Judged;
    }

    boolean quantPasses() {
        return medianError <= 0.1 && top1Agree >= 0.95 * top1Judged;
    }

    @Override
    public String toString() {
        return String.format("max_err=%.3g median_err=%.3g top1=%d/%d", maxError, medianError, top1Agree, top1Judged);
    }
}
