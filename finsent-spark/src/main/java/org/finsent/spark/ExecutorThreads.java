package org.finsent.spark;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import org.finsent.core.nn.OpenMp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Sizes ND4J's threads to the cores a Spark task was given ({@code spark.task.cpus}).
 *
 * <p>Spark does not set {@code OMP_NUM_THREADS} for executor JVMs, and without it ND4J's OpenMP team, OpenBLAS and
 * FinSent's host loops ({@code HostThreads}) each use every core of the host, so four executors on a 16-core node
 * would run 64 busy threads. OpenMP reads its environment once, when ND4J's native library loads: the first task
 * of an executor therefore puts {@code OMP_NUM_THREADS} (and {@code OMP_WAIT_POLICY=PASSIVE}) into the process
 * environment through the C library before touching ND4J, unless the user exported them (the recommended way:
 * {@code spark.executorEnv.OMP_NUM_THREADS}). After ND4J has loaded, ND4J's and OpenBLAS's thread counts (which
 * FinSent's own GEMM and kernels follow) are still set through their APIs.
 */
public final class ExecutorThreads {
    private interface LibC extends Library {
        String getenv(String name);

        int setenv(String name, String value, int overwrite);
    }

    private static volatile int configured;

    private ExecutorThreads() {
    }

    /** The threads per task: {@code spark.task.cpus} of the running task's configuration, else 1. */
    public static int taskCpus() {
        org.apache.spark.TaskContext tc = org.apache.spark.TaskContext.get();
        if (tc != null) return Math.max(1, tc.cpus());
        return 1;
    }

    /** Configures this JVM for {@code cpus} threads per task (once per JVM and value; cheap afterwards). */
    public static synchronized void configure(int cpus) {
        if (configured == cpus) return;
        if (cpus < 1) throw new IllegalArgumentException("cpus must be >= 1: " + cpus);
        if (!Platform.isWindows() && !ndLoaded()) {
            try {
                LibC c = Native.load(Platform.C_LIBRARY_NAME, LibC.class);
                // 0 = keep a value the user exported (spark.executorEnv.OMP_NUM_THREADS)
                c.setenv("OMP_NUM_THREADS", Integer.toString(cpus), 0);
            } catch (Throwable e) { // no JNA native here: the user's environment decides
            }
            OpenMp.preferPassiveWaits();
        }
        // System.getenv is the JVM's start-up copy: it shows what the user exported, not the setenv above
        int threads = threads(cpus, System.getenv("OMP_NUM_THREADS"));
        // ND4J's setter does not lower what it reports after load: FinSent's own host threads are capped directly
        org.finsent.core.nn.HostThreads.limit(threads);
        org.finsent.core.nn.Gemm.blasThreads(threads);   // FinSent's products' OpenBLAS, and what its blocks restore
        Nd4j.getEnvironment().setMaxThreads(threads);
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        try {
            Nd4j.factory().blas().setMaxThreads(threads);
        } catch (UnsupportedOperationException e) { // a backend without a settable BLAS pool
        }
        configured = cpus;
    }

    /**
     * The threads a task of {@code cpus} cores runs: an exported {@code OMP_NUM_THREADS} that is a whole number wins
     * (0 gives 1); of a nested list such as {@code 4,2} the first (outermost) level's count wins, as in OpenMP;
     * anything else exported (a sign, a word, an empty level) or nothing gives {@code cpus}.
     */
    static int threads(int cpus, String exportedOmp) {
        if (exportedOmp == null) return cpus;
        String v = exportedOmp.strip();
        if (!v.matches("\\d{1,9}(\\s*,\\s*\\d{1,9})*")) return cpus;
        return Math.max(1, Integer.parseInt(v.split("\\s*,")[0]));
    }

    private static boolean ndLoaded() {
        for (String lib : org.bytedeco.javacpp.Loader.getLoadedLibraries().keySet()) {
            if (lib.startsWith("gomp") || lib.contains("nd4j")) return true;
        }
        return false;
    }
}
