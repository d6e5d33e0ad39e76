package org.finsent.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Collects items that arrive together and runs them as one call of {@code batchFunction}.
 *
 * <p><b>Why.</b> A forward pass over 16 sentences costs far less than 16 forward passes over one (one GEMM per
 * layer instead of 16 skinny ones), and the model's forward is serialized anyway (see {@code Predictor}), so
 * concurrent requests would otherwise queue behind each other one sentence at a time.
 *
 * <p><b>Policy.</b> One worker thread takes the first waiting item, then everything already queued (up to
 * {@code maxBatch}); only if the batch is still not full does it wait for more, and never longer than
 * {@code maxWait} after it took the first item. So a lone request pays at most {@code maxWait} extra, and under load
 * (the worker was busy while requests queued) batches fill without any waiting. The queue is bounded: when it is
 * full, {@link #submit} fails fast with {@link RejectedExecutionException} (the server answers 503) instead of
 * letting latency grow without bound.
 *
 * <p><b>Isolation.</b> {@code batchFunction} must return one output per input, in order. If it throws a
 * {@link RuntimeException} for a batch of several items, each item is run again on its own, so an item that
 * cannot be processed (an input the model refuses) fails only its own future, with its own exception, and the
 * others get their outputs. An {@link Error} (out of memory, say) fails the whole batch. Thread-safe.
 */
public final class MicroBatcher<I, O> implements AutoCloseable {
    private record Job<I, O>(I input, CompletableFuture<O> result) {
    }

    private final Function<List<I>, List<O>> batchFunction;
    private final int maxBatch;
    private final long maxWaitNanos;
    private final BlockingQueue<Job<I, O>> queue;
    private final Thread worker;
    private volatile boolean closed;
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong items = new AtomicLong();

    /** Counters since start: forward calls and the items they carried ({@code items / batches} = mean batch). */
    public record Stats(long batches, long items, int queued) {
        public double meanBatchSize() {
            return batches == 0 ? 0 : (double) items / batches;
        }
    }

    /**
     * @param maxBatch      most items per call (1 disables batching)
     * @param maxWaitMillis longest the worker waits for a batch to fill after taking its first item (0: never waits,
     *                      but still takes whatever is already queued)
     * @param queueCapacity most items waiting at once
     */
    public MicroBatcher(Function<List<I>, List<O>> batchFunction, int maxBatch, double maxWaitMillis, int queueCapacity) {
        this.batchFunction = Objects.requireNonNull(batchFunction, "batchFunction");
        if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be >= 1: " + maxBatch);
        if (!(maxWaitMillis >= 0) || maxWaitMillis > 10_000) {
            throw new IllegalArgumentException("maxWaitMillis must be in [0, 10000]: " + maxWaitMillis);
        }
        if (queueCapacity < 1) throw new IllegalArgumentException("queueCapacity must be >= 1: " + queueCapacity);
        this.maxBatch = maxBatch;
        this.maxWaitNanos = Math.round(maxWaitMillis * 1e6);
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
        for (I in : inputs) jobs.add(new Job<>(in, new CompletableFuture<>()));
        synchronized (queue) { // makes the capacity check and the adds one step with respect to other submitters
            if (closed) throw new RejectedExecutionException("shutting down");
            if (queue.remainingCapacity() < jobs.size()) {
                throw new RejectedExecutionException("busy: " + queue.size() + " items queued (capacity "
                        + (queue.size() + queue.remainingCapacity()) + ")");
            }
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
        return maxWaitNanos / 1e6;
    }

    private void loop() {
        List<Job<I, O>> batch = new ArrayList<>(maxBatch);
        while (true) {
            try {
                Job<I, O> first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (closed) return; // closed and drained
                    continue;
                }
                batch.add(first);
                long deadline = System.nanoTime() + maxWaitNanos;
                queue.drainTo(batch, maxBatch - batch.size());
                while (batch.size() < maxBatch) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) break;
                    Job<I, O> next = queue.poll(left, TimeUnit.NANOSECONDS);
                    if (next == null) break;
                    batch.add(next);
                    queue.drainTo(batch, maxBatch - batch.size());
                }
                run(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failAll(new RejectedExecutionException("batcher interrupted"));
                return;
            } finally {
                batch.clear();
            }
        }
    }

    private void run(List<Job<I, O>> batch) {
        List<I> inputs = new ArrayList<>(batch.size());
        for (Job<I, O> j : batch) inputs.add(j.input());
        try {
            List<O> outputs = apply(inputs);
            for (int i = 0; i < batch.size(); i++) batch.get(i).result().complete(outputs.get(i));
        } catch (RuntimeException e) {
            if (batch.size() == 1) {
                batch.get(0).result().completeExceptionally(e);
                return;
            }
            // one bad item must not fail the others: find it by running each item alone
            for (Job<I, O> j : batch) {
                try {
                    j.result().complete(apply(List.of(j.input())).get(0));
                } catch (RuntimeException one) {
                    j.result().completeExceptionally(one);
                } catch (Error err) {
                    j.result().completeExceptionally(err);
                }
            }
        } catch (Error e) {
            for (Job<I, O> j : batch) j.result().completeExceptionally(e);
        }
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
