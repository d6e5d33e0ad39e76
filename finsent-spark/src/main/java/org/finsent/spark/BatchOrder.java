package org.finsent.spark;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * The training batches of one epoch as lists of example indices: the order of
 * {@link org.finsent.train.Batcher#trainBatches} (shuffle seeded by {@code (seed, epoch)}, optional length grouping
 * in mega-batches, shuffled batch order), computed from the token lengths alone. The driver of a distributed run
 * needs only the indices, not a padded epoch of every text; a test keeps the two orders equal.
 */
final class BatchOrder {
    private BatchOrder() {
    }

    static List<int[]> batches(int[] lengths, int batchSize, boolean groupByLength, long seed, int epoch) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1: " + batchSize);
        Random rng = new Random(epochSeed(seed, epoch));
        int n = lengths.length;
        List<Integer> order = new ArrayList<>(n);
        for (int i = 0; i < n; i++) order.add(i);
        Collections.shuffle(order, rng);
        List<List<Integer>> batches = new ArrayList<>();
        if (!groupByLength) {
            for (int from = 0; from < n; from += batchSize) batches.add(order.subList(from, Math.min(n, from + batchSize)));
        } else {
            int megaBatch = Math.max(1, Math.min(n / (4 * batchSize), 50)) * batchSize;
            Comparator<Integer> longestFirst = Comparator.comparingInt((Integer i) -> lengths[i]).reversed();
            for (int from = 0; from < n; from += megaBatch) {
                List<Integer> mega = new ArrayList<>(order.subList(from, Math.min(n, from + megaBatch)));
                mega.sort(longestFirst);
                for (int b = 0; b < mega.size(); b += batchSize) batches.add(mega.subList(b, Math.min(mega.size(), b + batchSize)));
            }
            Collections.shuffle(batches, rng);
        }
        List<int[]> out = new ArrayList<>(batches.size());
        for (List<Integer> b : batches) out.add(b.stream().mapToInt(Integer::intValue).toArray());
        return out;
    }

    /** Batcher's epoch seed. */
    static long epochSeed(long seed, int epoch) {
        return seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + 1;
    }
}
