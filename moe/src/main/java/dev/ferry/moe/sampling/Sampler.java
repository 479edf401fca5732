package dev.ferry.moe.sampling;

import java.security.SecureRandom;
import java.util.SplittableRandom;

/**
 * Picks the next token from a row of logits with llama.cpp's default sampler chain:
 * penalties, top-k, top-p, min-p, temperature, then a random draw (dist). A temperature of 0 or
 * below is greedy: the most likely token after the penalties.
 *
 * <p>The caller {@link #accept}s every token that enters the context, the prompt's included
 * (llama.cpp's main does this too), so the repeat penalty sees them. All buffers are sized to the
 * vocabulary once; {@link #sample} does not allocate. Not thread-safe: one sampler per sequence.
 * The random draws are reproducible for a seed, but not the same numbers llama.cpp's mt19937 draws.
 */
public final class Sampler {

    private final SamplingParams params;
    private final int vocabSize;
    private final long seed;
    private SplittableRandom random;

    private final float[] work;
    private final int[] candidates;

    // penalty window: the last tokens in a ring, their counts, and a stamp per token so that
    // each distinct token is penalised once per call
    private final int[] window;
    private int windowStart;
    private int windowSize;
    private final int[] counts;
    private final int[] appliedStamp;
    private int stamp;

    /**
     * @param contextSize what {@code --repeat-last-n -1} means (the context length)
     */
    public Sampler(SamplingParams params, int vocabSize, int contextSize) {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocabulary size must be positive, got " + vocabSize);
        }
        this.params = params;
        this.vocabSize = vocabSize;
        // -1 and llama.cpp's LLAMA_DEFAULT_SEED (0xFFFFFFFF) both mean "pick one"
        boolean random = params.seed() == SamplingParams.RANDOM_SEED || params.seed() == 0xFFFFFFFFL;
        this.seed = random ? new SecureRandom().nextLong() & 0x7FFFFFFFL : params.seed();
        this.random = new SplittableRandom(seed);
        this.work = new float[vocabSize];
        this.candidates = new int[vocabSize];
        int lastN = params.repeatLastN() == -1 ? Math.max(0, contextSize) : params.repeatLastN();
        boolean tracks = params.penalizes() && lastN > 0;
        this.window = new int[tracks ? lastN : 0];
        this.counts = new int[tracks ? vocabSize : 0];
        this.appliedStamp = new int[tracks ? vocabSize : 0];
    }

    public SamplingParams params() {
        return params;
    }

    /** The seed in use (the random one drawn when the params asked for {@link SamplingParams#RANDOM_SEED}). */
    public long seed() {
        return seed;
    }

    /** Records a token that entered the context, for the repeat penalties. */
    public void accept(int token) {
        if (window.length == 0) {
            return;
        }
        checkToken(token);
        if (windowSize == window.length) {
            counts[window[windowStart]]--;
            window[windowStart] = token;
            windowStart = (windowStart + 1) % window.length;
        } else {
            window[(windowStart + windowSize) % window.length] = token;
            windowSize++;
        }
        counts[token]++;
    }

    /** Forgets accepted tokens and restarts the random sequence from the seed. */
    public void reset() {
        if (counts.length > 0) {
            java.util.Arrays.fill(counts, 0);
        }
        windowStart = 0;
        windowSize = 0;
        random = new SplittableRandom(seed);
    }

    /** The next token for these logits (one per vocabulary entry); the array is not modified. */
    public int sample(float[] logits) {
        if (logits.length != vocabSize) {
            throw new IllegalArgumentException("expected " + vocabSize + " logits, got " + logits.length);
        }
        System.arraycopy(logits, 0, work, 0, vocabSize);
        applyPenalties(work);
        if (params.isGreedy()) {
            return argmax(work);
        }
        int n;
        boolean sorted;
        int k = params.topK();
        if (k > 0 && k < vocabSize) {
            n = topK(k);
            sorted = true;
        } else {
            for (int i = 0; i < vocabSize; i++) {
                candidates[i] = i;
            }
            n = vocabSize;
            sorted = false;
        }
        if (params.topP() < 1.0f) {
            n = topP(n, sorted);
            sorted = true;
        }
        if (params.minP() > 0.0f) {
            n = minP(n, sorted);
        }
        return draw(n);
    }

    /** llama.cpp's penalties: repeated tokens' logits divided (positive) or multiplied (negative). */
    void applyPenalties(float[] logits) {
        if (windowSize == 0) {
            return;
        }
        if (++stamp == 0) {
            java.util.Arrays.fill(appliedStamp, 0);
            stamp = 1;
        }
        float repeat = params.repeatPenalty();
        for (int i = 0; i < windowSize; i++) {
            int token = window[(windowStart + i) % window.length];
            if (appliedStamp[token] == stamp) {
                continue;
            }
            appliedStamp[token] = stamp;
            int count = counts[token];
            float logit = logits[token];
            logit = logit <= 0 ? logit * repeat : logit / repeat;
            logits[token] = logit - count * params.frequencyPenalty() - params.presencePenalty();
        }
    }

    private static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    /** The k best tokens into candidates[0, k), best first: a min-heap of size k, then heap-sorted. */
    private int topK(int k) {
        int size = 0;
        for (int i = 0; i < vocabSize; i++) {
            if (size < k) {
                candidates[size] = i;
                siftUpMin(size++);
            } else if (better(i, candidates[0])) {
                candidates[0] = i;
                siftDownMin(0, k);
            }
        }
        // repeatedly move the worst to the end: the array ends up best first
        for (int end = k - 1; end > 0; end--) {
            int worst = candidates[0];
            candidates[0] = candidates[end];
            candidates[end] = worst;
            siftDownMin(0, end);
        }
        return k;
    }

    /** Keeps the smallest best-first prefix whose probability reaches top-p; returns its length. */
    private int topP(int n, boolean sorted) {
        float max = sorted ? work[candidates[0]] : maxLogit(n);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(work[candidates[i]] - max);
        }
        double target = params.topP() * sum;
        if (sorted) {
            double cumulative = 0;
            for (int i = 0; i < n; i++) {
                cumulative += Math.exp(work[candidates[i]] - max);
                if (cumulative >= target) {
                    return i + 1;
                }
            }
            return n;
        }
        // unsorted (no top-k): pop a max-heap only as far as needed, popped items collect at the end
        for (int i = n / 2 - 1; i >= 0; i--) {
            siftDownMax(i, n);
        }
        double cumulative = 0;
        int kept = 0;
        for (int end = n - 1; end >= 0; end--) {
            int best = candidates[0];
            candidates[0] = candidates[end];
            candidates[end] = best;
            siftDownMax(0, end);
            kept++;
            cumulative += Math.exp(work[best] - max);
            if (cumulative >= target) {
                break;
            }
        }
        // the kept tokens sit at [n - kept, n) worst first: reverse them to the front
        for (int lo = n - kept, hi = n - 1; lo < hi; lo++, hi--) {
            int t = candidates[lo];
            candidates[lo] = candidates[hi];
            candidates[hi] = t;
        }
        System.arraycopy(candidates, n - kept, candidates, 0, kept);
        return kept;
    }

    /** Keeps tokens whose probability is at least min-p times the best one's (compared as logits). */
    private int minP(int n, boolean sorted) {
        float max = sorted ? work[candidates[0]] : maxLogit(n);
        float threshold = max + (float) Math.log(params.minP());
        int kept = 0;
        for (int i = 0; i < n; i++) {
            int token = candidates[i];
            if (work[token] >= threshold) {
                candidates[kept++] = token;
            }
        }
        return kept;
    }

    /** Temperature, softmax and a random draw over candidates[0, n). */
    private int draw(int n) {
        float invTemp = 1.0f / params.temperature();
        float max = maxLogit(n);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp((work[candidates[i]] - max) * invTemp);
        }
        double target = random.nextDouble() * sum;
        double cumulative = 0;
        for (int i = 0; i < n; i++) {
            cumulative += Math.exp((work[candidates[i]] - max) * invTemp);
            if (cumulative > target) {
                return candidates[i];
            }
        }
        return candidates[n - 1];
    }

    private float maxLogit(int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, work[candidates[i]]);
        }
        return max;
    }

    /** Higher logit, lower id on ties. */
    private boolean better(int a, int b) {
        return work[a] > work[b] || (work[a] == work[b] && a < b);
    }

    private void siftUpMin(int i) {
        int item = candidates[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!better(candidates[parent], item)) {
                break;
            }
            candidates[i] = candidates[parent];
            i = parent;
        }
        candidates[i] = item;
    }

    private void siftDownMin(int i, int size) {
        int item = candidates[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && better(candidates[child], candidates[child + 1])) {
                child++;
            }
            if (!better(item, candidates[child])) {
                break;
            }
            candidates[i] = candidates[child];
            i = child;
        }
        candidates[i] = item;
    }

    private void siftDownMax(int i, int size) {
        int item = candidates[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && better(candidates[child + 1], candidates[child])) {
                child++;
            }
            if (!better(candidates[child], item)) {
                break;
            }
            candidates[i] = candidates[child];
            i = child;
        }
        candidates[i] = item;
    }

    private void checkToken(int token) {
        if (token < 0 || token >= vocabSize) {
            throw new IllegalArgumentException("token " + token + " is outside the vocabulary of " + vocabSize);
        }
    }
}
