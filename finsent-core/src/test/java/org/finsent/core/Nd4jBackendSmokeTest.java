package org.finsent.core;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The default build loads ND4J's CPU backend (linux-x86_64 natives, OpenBLAS) and its GEMM is right. */
class Nd4jBackendSmokeTest {

    @Test
    void cpuBackendLoadsAndGemmMatchesNaiveLoops() {
        String backend = Nd4j.getBackend().getClass().getName();
        assertTrue(backend.contains("CpuBackend"), "expected the CPU backend, got " + backend);
        for (DataType type : new DataType[]{DataType.FLOAT, DataType.DOUBLE}) {
            int m = 37, k = 53, n = 29;
            double[][] a = random(m, k, 1), b = random(k, n, 2);
            INDArray c = Nd4j.create(a).castTo(type).mmul(Nd4j.create(b).castTo(type));
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += a[i][p] * b[p][j];
                    assertEquals(s, c.getDouble(i, j), type == DataType.DOUBLE ? 1e-12 : 1e-4, type + " [" + i + "," + j + "]");
                }
            }
        }
    }

    static double[][] random(int rows, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] x = new double[rows][cols];
        for (double[] row : x) for (int j = 0; j < cols; j++) row[j] = r.nextDouble(-1, 1);
        return x;
    }
}
