package org.finsent.core.nn;

import org.nd4j.linalg.factory.Nd4j;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * The threads FinSent's host loops run on ({@link HostKernels}, {@link Gemm}, {@link BatchedMatmul}, the fused AdamW): the calling
 * thread plus ND4J's thread count − 1 helpers that spin briefly after each job before parking.
 *
 * <p>Why its own threads: the step hands out hundreds of short jobs (GEMM halves of a few milliseconds, kernels of a
 * fraction of one), and waking a parked thread can cost tens of microseconds. The helpers spin for
 * {@value #SPIN_MICROS} µs after a job, as OpenBLAS's own threads do, so back-to-back jobs find them awake; the caller
 * always takes part and indices are handed out one at a time, so a late helper only takes what is left and the
 * caller never waits for one that has nothing to do. With {@link Gemm} this replaces OpenBLAS's thread pool: one set
 * of threads for GEMMs and kernels instead of two taking turns.
 */
public final class HostThreads {
    static final int SPIN_MICROS = 200;
    private static final ReentrantLock LOCK = new ReentrantLock();
    private static volatile Worker[] workers = new Worker[0];

    private HostThreads() {
    }

    private static volatile int limit = Integer.MAX_VALUE;

    /**
     * Threads a host loop may use: ND4J's thread count ({@code OMP_NUM_THREADS}), at most the cores and at most
     * {@link #limit(int)}.
     */
    public static int threads() {
        return Math.max(1, Math.min(limit, Math.min(Nd4j.getEnvironment().maxThreads(), Runtime.getRuntime().availableProcessors())));
    }

    /**
     * Caps {@link #threads()} at {@code max} for the whole JVM (e.g. a Spark task's cores). Needed because ND4J's
     * {@code Environment.setMaxThreads} does not change what {@code maxThreads()} reports once ND4J has loaded.
     */
    public static void limit(int max) {
        if (max < 1) throw new IllegalArgumentException("max threads must be >= 1: " + max);
        limit = max;
    }

    /**
     * Runs {@code body(0..count-1)}, each index exactly once, on the caller and the helpers; returns when all are
     * done and rethrows the first failure. A call made while another thread's call is running (two models used
     * from two threads), or from inside a body, runs on its caller alone rather than queueing.
     */
    public static void parallelFor(int count, IntConsumer body) {
        int threads = threads();
        if (count <= 1 || threads <= 1 || LOCK.isHeldByCurrentThread() || !LOCK.tryLock()) {
            for (int c = 0; c < count; c++) body.accept(c);
            return;
        }
        try {
            Job job = new Job(count, body);
            Worker[] ws = workers(threads - 1);
            for (int t = 0; t < Math.min(ws.length, count - 1); t++) ws[t].post(job);
            job.run();
            job.await();
        } finally {
            LOCK.unlock();
        }
    }

    private static Worker[] workers(int n) {
        Worker[] ws = workers;
        if (ws.length < n) {
            Worker[] more = java.util.Arrays.copyOf(ws, n);
            for (int i = ws.length; i < n; i++) {
                more[i] = new Worker("finsent-host-" + (i + 1));
                more[i].start();
            }
            workers = ws = more;
        }
        return ws;
    }

    /** One call: an index dispenser, a completion count and the first failure. */
    private static final class Job implements Runnable {
        private final int count;
        private final IntConsumer body;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger done = new AtomicInteger();
        private volatile Throwable failure;

        Job(int count, IntConsumer body) {
            this.count = count;
            this.body = body;
        }

        @Override
        public void run() {
            for (int c; (c = next.getAndIncrement()) < count; ) {
                try {
                    if (failure == null) body.accept(c);
                } catch (Throwable e) {
                    failure = e;
                } finally {
                    done.incrementAndGet();
                }
            }
        }

        void await() {
            // what is left are the indices helpers are running now: at most one short piece of work each
            for (int spins = 0; done.get() < count; spins++) {
                if (spins < 1 << 12) Thread.onSpinWait();
                else Thread.yield();
            }
            Throwable e = failure;
            if (e instanceof RuntimeException re) throw re;
            if (e instanceof Error er) throw er;
            if (e != null) throw new IllegalStateException(e);
        }
    }

    private static final class Worker extends Thread {
        private final java.util.concurrent.atomic.AtomicReference<Runnable> next = new java.util.concurrent.atomic.AtomicReference<>();
        private volatile boolean parked;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        void post(Runnable job) {
            next.set(job);
            if (parked) LockSupport.unpark(this);   // both fields volatile: either we see parked, or it sees next
        }

        @Override
        public void run() {
            long idleSince = System.nanoTime();
            while (true) {
                Runnable job = next.get();
                // taken only if it is still the posted one: the caller may have finished it alone and posted the
                // next job meanwhile, which a plain "next = null" would wipe out
                if (job != null && next.compareAndSet(job, null)) {
                    job.run();
                    idleSince = System.nanoTime();
                    continue;
                }
                long idle = System.nanoTime() - idleSince;
                if (idle < 20_000) {
                    Thread.onSpinWait();
                } else if (idle < SPIN_MICROS * 1_000L) {
                    Thread.yield();   // let ND4J's OpenMP threads have the core if they need it
                } else {
                    parked = true;
                    if (next.get() == null) LockSupport.park(this);
                    parked = false;
                    idleSince = System.nanoTime();
                }
            }
        }
    }
}
