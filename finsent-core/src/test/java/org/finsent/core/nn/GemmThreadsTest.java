package org.finsent.core.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * FinSent's single-threaded blocks set the threads of the OpenBLAS its products call (ND4J loads a second copy, whose
 * setting those products never see), and restore the count last given to {@link Gemm#blasThreads}, not a stale one.
 * The count is read back from that library (its {@code openblas_get_num_threads}).
 */
class GemmThreadsTest {
    @Test
    void singleThreadedBlocksSetAndRestoreTheThreadsOfTheOpenBlasTheProductsCall() {
        // as in any use: ND4J (and with it its own OpenBLAS copy) is loaded before FinSent's first product
        Nd4j.create(2, 2).mmul(Nd4j.create(2, 2));
        int before = Gemm.blasThreadsInEffect();
        try {
            Gemm.blasThreads(2);
            assertEquals(2, Gemm.blasThreadsInEffect());
            int[] inside = new int[1];
            Gemm.singleThreadedBlas(() -> inside[0] = Gemm.blasThreadsInEffect());
            assertEquals(1, inside[0], "inside a block");
            assertEquals(2, Gemm.blasThreadsInEffect(), "restored after the block");

            Gemm.blasThreads(1);
            Gemm.singleThreadedBlas(() -> inside[0] = Gemm.blasThreadsInEffect());
            assertEquals(1, inside[0]);
            assertEquals(1, Gemm.blasThreadsInEffect(), "a block restores the count set last (1), not the first (2)");

            Gemm.blasThreads(2);
            Gemm.singleThreadedBlas(() -> { });
            assertEquals(2, Gemm.blasThreadsInEffect(), "and after it is raised again, 2");
            assertThrows(IllegalArgumentException.class, () -> Gemm.blasThreads(0));
        } finally {
            Gemm.blasThreads(Math.max(1, before));
        }
    }
}
