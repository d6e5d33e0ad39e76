package org.finsent.core.nn;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.LoggerFactory;

/**
 * The one place that decides whether FinSent's host-memory fast paths run: the fused FP32 kernels
 * ({@link HostKernels}: GELU, softmax, LayerNorm, the fused attention), the direct OpenBLAS calls of {@link Gemm}
 * (with its small-matrix blocking) and {@link BatchedMatmul}, {@link RowPacking}'s bulk copies and the fused AdamW
 * update. Each of them reads and writes ND4J's buffers as host memory, so they all need the same three things:
 * <ol>
 *   <li>ND4J's CPU backend (the CUDA backend's buffers live on the device);</li>
 *   <li>the natives they call: the OpenBLAS ND4J links, loaded through {@code org.bytedeco.openblas}, and JavaCPP's
 *       pointer access to an ND4J buffer. They are probed once; a failure (another OS or CPU without them, a
 *       stripped class path) is logged once and turns the fast paths off instead of failing later;</li>
 *   <li>not switched off: {@code -Dfinsent.fastPaths=false} turns every one of them off at once.</li>
 * </ol>
 * With the fast paths off every layer takes its plain ND4J-op path, the one the CUDA backend takes: the oracle tests
 * run in that mode too ({@code mvn test -Dfinsent.fastPaths=false}), which proves that path without a GPU.
 *
 * <p>Two finer switches stay for tests and benchmarks: {@code -Dfinsent.nd4jElementwise=true} turns only the fused
 * element-wise kernels off ({@link HostKernels#enabled}), {@code -Dfinsent.smallGemm=false|true} only
 * {@link Gemm}'s small-matrix blocking (see there). Neither can turn a path on that this class keeps off.
 */
public final class FastPaths {
    /** The system property that turns every fast path off ({@code false}); any other value or none leaves them on. */
    public static final String PROPERTY = "finsent.fastPaths";

    private static final boolean SWITCHED_ON = !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim());
    private static final boolean CPU = cpuBackend();

    /** What loads the natives; tests swap it for one that fails ({@link #simulateMissingNatives}). */
    private static volatile Runnable probe = FastPaths::loadNatives;
    private static volatile Boolean natives;   // the probe's result, once it ran
    private static volatile Boolean forced;    // tests: overrides the system property
    private static volatile boolean logged;

    private FastPaths() {
    }

    /**
     * Whether the host-memory fast paths may run: CPU backend, natives loadable, not switched off. Each path then
     * still checks that its arrays fit it (type, layout) and otherwise takes its ND4J-op path.
     */
    public static boolean enabled() {
        boolean on = forced != null ? forced : SWITCHED_ON;
        boolean ok = on && CPU && nativesLoadable();
        if (!logged) log(ok);
        return ok;
    }

    /** Why the fast paths are on or off, in words (for logs and run reports). */
    public static String describe() {
        boolean on = forced != null ? forced : SWITCHED_ON;
        if (!on) return "off (-D" + PROPERTY + "=false): plain ND4J ops";
        if (!CPU) return "off (ND4J's backend is not the CPU one): plain ND4J ops";
        if (!nativesLoadable()) return "off (OpenBLAS natives not loadable): plain ND4J ops";
        return "on (CPU backend, direct OpenBLAS and fused host kernels)";
    }

    private static void log(boolean ok) {
        logged = true;
        var log = LoggerFactory.getLogger(FastPaths.class);
        if (ok) log.debug("FinSent fast paths {}", describe());
        else log.info("FinSent fast paths {}", describe());
    }

    private static boolean cpuBackend() {
        try {
            return Nd4j.getEnvironment().isCPU();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    private static boolean nativesLoadable() {
        Boolean n = natives;
        if (n != null) return n;
        synchronized (FastPaths.class) {
            if (natives != null) return natives;
            try {
                probe.run();
                natives = true;
            } catch (Throwable e) {   // UnsatisfiedLinkError, NoClassDefFoundError, ExceptionInInitializerError, ...
                natives = false;
                LoggerFactory.getLogger(FastPaths.class).info("FinSent's host fast paths step aside, plain ND4J ops "
                        + "instead: their natives did not load ({})", e.toString());
            }
            return natives;
        }
    }

    /** Loads the OpenBLAS ND4J's CPU backend links and reads an ND4J buffer through a JavaCPP pointer. */
    private static void loadNatives() {
        openblas_nolapack.blas_get_num_threads();
        var x = Nd4j.createUninitialized(DataType.FLOAT, 1);
        new FloatPointer(x.data().addressPointer()).get(0);
    }

    /**
     * Tests: {@code true} makes the natives' probe fail as on a platform without them (it throws
     * {@link UnsatisfiedLinkError}), {@code false} restores the real probe; either way the probe runs again on next use.
     */
    static synchronized void simulateMissingNatives(boolean missing) {
        probe = missing ? () -> {
            throw new UnsatisfiedLinkError("no jniopenblas_nolapack in java.library.path (simulated)");
        } : FastPaths::loadNatives;
        natives = null;
    }

    /** Tests: {@code true}/{@code false} overrides {@code -Dfinsent.fastPaths}; null goes back to the property. */
    static void force(Boolean on) {
        forced = on;
    }
}
