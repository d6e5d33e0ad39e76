package org.finsent.spark;

import org.finsent.core.nn.Gemm;
import org.finsent.core.nn.HostThreads;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A task's cores bound FinSent's host threads and the threads of the OpenBLAS its products call after ND4J has loaded,
 * and the products keep that count: each runs OpenBLAS single-threaded inside FinSent's own threads and then restores
 * the configured count, not the one the JVM started with. (An exported OMP_NUM_THREADS wins, as documented; this
 * module's tests export 1.)
 */
class ExecutorThreadsTest {
    @Test
    void configureSetsTheHostAndBlasThreadsAndProductsKeepThem() {
        Nd4j.create(2, 2).mmul(Nd4j.create(2, 2));
        Gemm.gemm(Nd4j.rand(64, 64), Nd4j.rand(64, 64), false, false);   // FinSent's GEMM set up before
        int cores = Runtime.getRuntime().availableProcessors();
        String env = System.getenv("OMP_NUM_THREADS");
        int expected = env != null && env.strip().matches("\\d+") ? Math.max(1, Integer.parseInt(env.strip())) : 1;
        try {
            ExecutorThreads.configure(2);   // configure acts once per value: come to 1 from another value
            Gemm.blasThreads(2);            // as in a JVM whose OpenBLAS started with 2 threads
            ExecutorThreads.configure(1);
            assertEquals(Math.min(expected, cores), HostThreads.threads(), "host threads");
            assertEquals(expected, Gemm.blasThreadsInEffect(), "OpenBLAS threads");
            Gemm.gemm(Nd4j.rand(64, 64), Nd4j.rand(64, 64), false, false);
            assertEquals(expected, Gemm.blasThreadsInEffect(), "OpenBLAS threads after a product");
        } finally {
            ExecutorThreads.configure(cores);
        }
    }
}
