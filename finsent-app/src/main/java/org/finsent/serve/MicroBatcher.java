package org.finsent.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Collects items that arrive together and runs them as one call of {@code batchFunction}.
 *
 * <p><b>Why.</b> A forward pass over 16 sentences costs far less than 16 forward passes over one (one GEMM per
 * layer instead of 16 skinny ones), and the model's forward is serialized anyway (see {@code Predictor}), so
 * concurrent requests would otherwise queue behind each other one sentence at a time.
 *
 * <p><b>Policy.</b> One worker thread takes the first waiting item, then everything already queued (up to
 * {@code maxBatch}). Whether it then waits for more depends on the {@link Wait} policy:
 * <ul>
 *   <li>{@link Wait#ADAPTIVE} (the default) waits only when recent history says companions are coming: it expects as
 *   many submissions as were in the system when the previous forward pass ended (that batch's plus those queued
 *   meanwhile), since closed-loop clients send their next request as soon as they get their answer. It stops waiting
 *   as soon as that many are in hand, and never waits past {@code maxWait} after the previous batch was answered.
 *   So a lone client runs at once (it expects only itself), 16 clients keep meeting in one batch instead of
 *   splitting into two alternating cohorts (the items queued behind batch A wait for A's clients to come back),
 *   and after the load drops one batch waits, finds fewer, and the expectation falls with it.</li>
 *   <li>{@link Wait#FIXED} waits until the batch is full or {@code maxWait} has passed since it took the first
 *   item: a lone request always pays {@code maxWait}, and so does every batch that never fills.</li>
 * </ul>
 * The queue is bounded: when it is full, {@link #submit} fails fast with {@link RejectedExecutionException} (the
 * server answers 503) instead of letting latency grow without bound.
 *
 * <p><b>Isolation.</b> {@code batchFunction} must return one output per input, in order. If it throws a
 * {@link RuntimeException} for a batch of several items, each item is run again on its own, so an item that
 * cannot be processed (an input the model refuses) fails only its own future, with its own exception, and the
 * others get their outputs. An {@link Error} (out of memory, say) fails the whole batch. Thread-safe.
 */
public final class MicroBatcher<I, O> implements AutoCloseable {
    /** When the worker waits for a batch to fill (see the class comment). */
    public enum Wait {
        ADAPTIVE, FIXED;

        /** {@code adaptive} or {@code fixed} (as the command line and {@code GET /model} spell it). */
        @com.fasterxml.jackson.annotation.JsonValue
        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** {@code adaptive} or {@code fixed}, any case. */
        public static Wait parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("batch wait policy must be adaptive or fixed: " + s);
            }
        }
    }

    /** @param opens whether this is the first item of its {@link #submitAll} call (submissions, not items, are counted) */
    private record Job<I, O>(I input, CompletableFuture<O> result, boolean opens) {
    }

    private final Function<List<I>, List<O>> batchFunction;
    private final int maxBatch;
    private final Policy policy;
    private final BlockingQueue<Job<I, O>> queue;
    private final Thread worker;
    private volatile boolean closed;
    private volatile long submissions; // written under the queue lock
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong items = new AtomicLong();

    /** Counters since start: forward calls and the items they carried ({@code items / batches} = mean batch). */
    public record Stats(long batches, long items, int queued) {
        public double meanBatchSize() {
            return batches == 0 ? 0 : (double) items / batches;
        }
    }

    /** A batcher with the {@link Wait#ADAPTIVE} policy. */
    public MicroBatcher(Function<List<I>, List<O>> batchFunction, int maxBatch, double maxWaitMillis, int queueCapacity) {
        this(batchFunction, maxBatch, maxWaitMillis, Wait.ADAPTIVE, queueCapacity);
    }

    /**
     * @param maxBatch      most items per call (1 disables batching)
     * @param maxWaitMillis longest the worker waits for a batch to fill (0: never waits, but still takes whatever is
     *                      already queued); see {@link Wait} for when it waits
     * @param queueCapacity most items waiting at once
     */
    public MicroBatcher(Function<List<I>, List<O>> batchFunction, int maxBatch, double maxWaitMillis, Wait wait, int queueCapacity) {
        this.batchFunction = Objects.requireNonNull(batchFunction, "batchFunction");
        if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be >= 1: " + maxBatch);
        if (!(maxWaitMillis >= 0) || maxWaitMillis > 10_000) {
            throw new IllegalArgumentException("maxWaitMillis must be in [0, 10000]: " + maxWaitMillis);
        }
        if (queueCapacity < 1) throw new IllegalArgumentException("queueCapacity must be >= 1: " + queueCapacity);
        this.maxBatch = maxBatch;
        this.policy = new Policy(Objects.requireNonNull(wait, "wait"), Math.round(maxWaitMillis * 1e6));
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.worker = new Thread(this::loop, "finsent-microbatcher");
        worker.setDaemon(true);
        worker.start();
    }

    /** Queues one item; the future completes when its batch has run. */
    public CompletableFuture<O> submit(I input) {
        return submitAll(List.of(input)).get(0);
    }

    /**
     * Queues several items at once (all or none: a full queue rejects the whole list, so a batch request never
     * half-runs).
     *
     * @throws RejectedExecutionException when the queue has no room for all of them, or the batcher is closed
     */
    public List<CompletableFuture<O>> submitAll(List<I> inputs) {
        List<Job<I, O>> jobs = new ArrayList<>(inputs.size());
        for (I in : inputs) jobs.add(new Job<>(in, new CompletableFuture<>(), jobs.isEmpty()));
        synchronized (queue) { // makes the capacity check and the adds one step with respect to other submitters
            if (closed) throw new RejectedExecutionException("shutting down");
            if (queue.remainingCapacity() < jobs.size()) {
                throw new RejectedExecutionException("busy: " + queue.size() + " items queued (capacity "
                        + (queue.size() + queue.remainingCapacity()) + ")");
            }
            if (!jobs.isEmpty()) submissions++; // before the adds: the worker may take them before this block ends
            queue.addAll(jobs);
        }
        List<CompletableFuture<O>> out = new ArrayList<>(jobs.size());
        for (Job<I, O> j : jobs) out.add(j.result());
        return out;
    }

    public Stats stats() {
        return new Stats(batches.get(), items.get(), queue.size());
    }

    public int maxBatch() {
        return maxBatch;
    }

    public double maxWaitMillis() {
        return policy.maxWaitNanos / 1e6;
    }

    public Wait waitPolicy() {
        return policy.wait;
    }

    /**
     * The wait decision alone, on a clock passed in (so it can be tested without timing): how many submissions to
     * expect, and until when to wait for them. Used by the worker thread only.
     */
    static final class Policy {
        static final long NO_WAIT = Long.MIN_VALUE;
        final Wait wait;
        final long maxWaitNanos;
        private int expected = 1;                 // submissions expected in the next batch
        private long answeredAt = Long.MIN_VALUE; // when the previous batch's futures were completed (nanoTime)

        Policy(Wait wait, long maxWaitNanos) {
            this.wait = wait;
            this.maxWaitNanos = maxWaitNanos;
        }

        /**
         * The time to wait until for more items, or {@link #NO_WAIT}.
         *
         * @param inHand  submissions already in the batch
         * @param takenAt when the worker took the batch's first item
         */
        long deadline(int inHand, long takenAt) {
            if (maxWaitNanos == 0) return NO_WAIT;
            if (wait == Wait.FIXED) return takenAt + maxWaitNanos;
            if (inHand >= expected || answeredAt == Long.MIN_VALUE) return NO_WAIT;
            // companions are the clients just answered: they come back soon after their answers or not at all
            long d = Math.min(answeredAt, takenAt) + maxWaitNanos;
            return d - takenAt > 0 ? d : NO_WAIT;
        }

        /** After the forward pass, before any answer goes out (so no answered client can be counted twice). */
        void ran(int submissionsInBatch, long submissionsQueued) {
            expected = (int) Math.min(Integer.MAX_VALUE, Math.max(1, submissionsInBatch + submissionsQueued));
        }

        /** After the batch's futures were completed. */
        void answered(long now) {
            answeredAt = now;
        }

        int expected() {
            return expected;
        }
    }

    private void loop() {
        List<Job<I, O>> batch = new ArrayList<>(maxBatch);
        long taken = 0; // submissions the worker has taken from the queue
        while (true) {
            try {
                Job<I, O> first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (closed) return; // closed and drained
                    continue;
                }
                long takenAt = System.nanoTime();
                batch.add(first);
                drainTo(batch);
                int opened = opened(batch, 0);
                // the rest of a submission that the previous batch had no room for is a submission too
                int continued = first.opens() ? 0 : 1;
                while (batch.size() < maxBatch) {
                    long deadline = policy.deadline(opened + continued, takenAt);
                    if (deadline == Policy.NO_WAIT) break;
                    long left = deadline - System.nanoTime();
                    if (left <= 0) break;
                    Job<I, O> next = queue.poll(left, TimeUnit.NANOSECONDS);
                    if (next == null) break;
                    int from = batch.size();
                    batch.add(next);
                    drainTo(batch);
                    opened += opened(batch, from);
                }
                taken += opened;
                final long takenSoFar = taken;
                final int inBatch = opened + continued;
                run(batch, () -> policy.ran(inBatch, submissions - takenSoFar));
                policy.answered(System.nanoTime());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failAll(new RejectedExecutionException("batcher interrupted"));
                return;
            } finally {
                batch.clear();
            }
        }
    }

    /**
     * Everything queued, up to {@code maxBatch}. Under the submitters' lock: a submission whose first item the worker
     * just took is then in the queue whole, so a batch request is not split across batches unless it does not fit.
     */
    private void drainTo(List<Job<I, O>> batch) {
        synchronized (queue) {
            queue.drainTo(batch, maxBatch - batch.size());
        }
    }

    private static int opened(List<? extends Job<?, ?>> batch, int from) {
        int n = 0;
        for (int i = from; i < batch.size(); i++) if (batch.get(i).opens()) n++;
        return n;
    }

    /** Runs the batch, calls {@code beforeAnswers} once the outputs are known, then completes the futures. */
    private void run(List<Job<I, O>> batch, Runnable beforeAnswers) {
        List<I> inputs = new ArrayList<>(batch.size());
        for (Job<I, O> j : batch) inputs.add(j.input());
        Object[] results = new Object[batch.size()]; // an output, or the Throwable that fails its future
        boolean[] failed = new boolean[batch.size()];
        try {
            List<O> outputs = apply(inputs);
            for (int i = 0; i < results.length; i++) results[i] = outputs.get(i);
        } catch (RuntimeException e) {
            if (batch.size() == 1) {
                results[0] = e;
                failed[0] = true;
            } else {
                // one bad item must not fail the others: find it by running each item alone
                for (int i = 0; i < results.length; i++) {
                    try {
                        results[i] = apply(List.of(inputs.get(i))).get(0);
                    } catch (RuntimeException | Error one) {
                        results[i] = one;
                        failed[i] = true;
                    }
                }
            }
        } catch (Error e) {
            java.util.Arrays.fill(results, e);
            java.util.Arrays.fill(failed, true);
        }
        beforeAnswers.run();
        for (int i = 0; i < results.length; i++) {
            if (failed[i]) batch.get(i).result().completeExceptionally((Throwable) results[i]);
            else batch.get(i).result().complete(cast(results[i]));
        }
    }

    @SuppressWarnings("unchecked")
    private O cast(Object o) {
        return (O) o;
    }

    private List<O> apply(List<I> inputs) {
        List<O> outputs = batchFunction.apply(inputs);
        if (outputs == null || outputs.size() != inputs.size()) {
            throw new IllegalStateException("batch function returned " + (outputs == null ? "null" : outputs.size() + " outputs")
                    + " for " + inputs.size() + " inputs");
        }
        batches.incrementAndGet();
        items.addAndGet(inputs.size());
        return outputs;
    }

    private void failAll(RuntimeException e) {
        List<Job<I, O>> left = new ArrayList<>();
        queue.drainTo(left);
        for (Job<I, O> j : left) j.result().completeExceptionally(e);
    }

    /**
     * Stops accepting items, finishes every item already queued, and waits for the worker (graceful shutdown: no
     * accepted request is dropped).
     */
    @Override
    public void close() {
        synchronized (queue) {
            closed = true;
        }
        try {
            worker.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (worker.isAlive()) worker.interrupt();
    }
}
