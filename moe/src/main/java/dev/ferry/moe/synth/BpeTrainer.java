package dev.ferry.moe.synth;

import dev.ferry.loader.tokenizer.PreTokenizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedSet;
import java.util.TreeMap;

/**
 * A small byte-level BPE trainer: splits a text into words with a pre-tokenizer, then
 * repeatedly merges the most frequent adjacent pair of symbols (ties broken by the pair's text,
 * so training is deterministic) until the token budget is spent or every word is one symbol.
 */
public final class BpeTrainer {

    /** Merges in rank order ("left right", as tokenizer.ggml.merges stores them) and the new tokens in id order. */
    public record Result(List<String> merges, List<String> tokens) {
    }

    private BpeTrainer() {
    }

    /**
     * Learns at most {@code maxNewTokens} tokens beyond the 256 byte tokens from {@code text}
     * split by {@code preTokenizer}.
     */
    public static Result train(String text, PreTokenizer preTokenizer, int maxNewTokens) {
        Map<String, Integer> wordCounts = new TreeMap<>();
        for (String w : preTokenizer.splitByteEncoded(text)) {
            wordCounts.merge(w, 1, Integer::sum);
        }
        List<String> symbols = new ArrayList<>();
        Map<String, Integer> symbolIds = new HashMap<>();
        int[][] words = new int[wordCounts.size()][];
        int[] lengths = new int[words.length];
        int[] counts = new int[words.length];
        int k = 0;
        for (Map.Entry<String, Integer> e : wordCounts.entrySet()) {
            words[k] = e.getKey().codePoints().map(cp -> symbolId(Character.toString(cp), symbols, symbolIds)).toArray();
            lengths[k] = words[k].length;
            counts[k] = e.getValue();
            k++;
        }
        List<String> merges = new ArrayList<>();
        SequencedSet<String> tokens = new LinkedHashSet<>();
        while (tokens.size() < maxNewTokens) {
            long best = bestPair(words, lengths, counts, symbols);
            if (best < 0) {
                break;
            }
            int left = (int) (best >>> 32);
            int right = (int) best;
            String merged = symbols.get(left) + symbols.get(right);
            merges.add(symbols.get(left) + " " + symbols.get(right));
            tokens.add(merged);
            int id = symbolId(merged, symbols, symbolIds);
            for (int w = 0; w < words.length; w++) {
                int[] word = words[w];
                int n = 0;
                for (int i = 0; i < lengths[w]; i++) {
                    if (i + 1 < lengths[w] && word[i] == left && word[i + 1] == right) {
                        word[n++] = id;
                        i++;
                    } else {
                        word[n++] = word[i];
                    }
                }
                lengths[w] = n;
            }
        }
        return new Result(List.copyOf(merges), List.copyOf(tokens));
    }

    private static int symbolId(String text, List<String> symbols, Map<String, Integer> ids) {
        return ids.computeIfAbsent(text, t -> {
            symbols.add(t);
            return symbols.size() - 1;
        });
    }

    /**
     * The most frequent adjacent pair as {@code left << 32 | right}, the smallest by the texts
     * (left, then right) among equals; -1 when every word is one symbol.
     */
    private static long bestPair(int[][] words, int[] lengths, int[] counts, List<String> symbols) {
        Map<Long, Integer> pairCounts = new HashMap<>();
        for (int w = 0; w < words.length; w++) {
            for (int i = 0; i + 1 < lengths[w]; i++) {
                pairCounts.merge(((long) words[w][i] << 32) | words[w][i + 1], counts[w], Integer::sum);
            }
        }
        long best = -1;
        int bestCount = 0;
        for (Map.Entry<Long, Integer> e : pairCounts.entrySet()) {
            int c = e.getValue();
            if (c > bestCount || (c == bestCount && compare(e.getKey(), best, symbols) < 0)) {
                best = e.getKey();
                bestCount = c;
            }
        }
        return best;
    }

    private static int compare(long a, long b, List<String> symbols) {
        int c = symbols.get((int) (a >>> 32)).compareTo(symbols.get((int) (b >>> 32)));
        return c != 0 ? c : symbols.get((int) a).compareTo(symbols.get((int) b));
    }
}
