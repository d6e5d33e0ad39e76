package org.finsent.spark;

import org.finsent.core.nn.Gemm;
import org.finsent.core.nn.HostThreads;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A task's cores bound FinSent's host threads and the threads of the OpenBLAS its products call after ND4J has loaded,
 * and the products keep that count: each runs OpenBLAS single-threaded inside FinSent's own threads and then restores
 * the configured count, not the one the JVM started with. An exported OMP_NUM_THREADS wins, as documented; this
 * module's surefire configuration exports 1.
 */
class ExecutorThreadsTest {
    @Test
    void anExportedWholeNumberWinsOverTheTaskCores() {
        assertEquals(4, ExecutorThreads.threads(4, null));
        assertEquals(3, ExecutorThreads.threads(4, "3"));
        assertEquals(6, ExecutorThreads.threads(2, " 6 "));
        assertEquals(1, ExecutorThreads.threads(4, "0"), "0 threads: one");
        // a nested list: the outermost level's count
        assertEquals(3, ExecutorThreads.threads(4, "3,2"));
        assertEquals(6, ExecutorThreads.threads(2, "6 , 1,1"));
        assertEquals(1, ExecutorThreads.threads(4, "0,2"));
        // anything else leaves the task's cores
        assertEquals(4, ExecutorThreads.threads(4, ""));
        assertEquals(4, ExecutorThreads.threads(4, "3,"));
        assertEquals(4, ExecutorThreads.threads(4, ",3"));
        assertEquals(4, ExecutorThreads.threads(4, "-2"));
        assertEquals(4, ExecutorThreads.threads(4, "two"));
        assertEquals(4, ExecutorThreads.threads(4, "99999999999"), "too long for an int: not a crash");
    }

    @Test
    void configureSetsTheHostAndBlasThreadsAndProductsKeepThem() {
        assertEquals("1", System.getenv("OMP_NUM_THREADS"), "finsent-spark's surefire configuration exports OMP_NUM_THREADS=1");
        Nd4j.create(2, 2).mmul(Nd4j.create(2, 2));
        Gemm.gemm(Nd4j.rand(64, 64), Nd4j.rand(64, 64), false, false);   // FinSent's GEMM set up before
        int cores = Runtime.getRuntime().availableProcessors();
        try {
            ExecutorThreads.configure(2);   // the exported 1 wins over 2 cores
            assertEquals(1, HostThreads.threads(), "host threads");
            Gemm.blasThreads(2);            // as in a JVM whose OpenBLAS started with 2 threads
            ExecutorThreads.configure(1);   // configure acts once per value: come to 1 from another value
            assertEquals(1, HostThreads.threads(), "host threads");
            assertEquals(1, Gemm.blasThreadsInEffect(), "OpenBLAS threads");
            Gemm.gemm(Nd4j.rand(64, 64), Nd4j.rand(64, 64), false, false);
            assertEquals(1, Gemm.blasThreadsInEffect(), "OpenBLAS threads after a product");
        } finally {
            ExecutorThreads.configure(cores);
        }
    }
}
