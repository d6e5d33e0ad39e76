package org.finsent.core.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Gather and scatter between the padded and the packed rows, against a naive row-by-row copy. */
class RowPackingTest {
    // right padding, left padding, a gap inside, a row with no token at all
    private static final int[][] MASK = {{1, 1, 1, 0, 0}, {0, 0, 1, 1, 1}, {1, 0, 1, 1, 0}, {0, 0, 0, 0, 0}, {1, 1, 1, 1, 1}};

    @Test
    void countsRealRowsAndIsNullWithoutPadding() {
        RowPacking p = RowPacking.of(MASK);
        assertEquals(25, p.paddedRows());
        assertEquals(3 + 3 + 3 + 0 + 5, p.rows());
        assertNull(RowPacking.of(new int[][]{{1, 1}, {1, 1}}), "no padding: nothing to pack");
        assertNull(RowPacking.of(new int[][]{{0, 0}}), "no real token");
    }

    @Test
    void gatherAndScatterMatchANaiveCopyOnEveryPath() {
        RowPacking p = RowPacking.of(MASK);
        // FP32 / FP64 take the host copies; FP16 the ND4J-assign path (as the CUDA backend does), zero fill included
        for (DataType type : new DataType[]{DataType.FLOAT, DataType.DOUBLE, DataType.HALF}) {
            INDArray padded = Nd4j.rand(type, 25, 7).subi(0.5);
            INDArray expectedPacked = Nd4j.create(type, 14, 7), expectedPadded = Nd4j.zeros(type, 25, 7);
            int k = 0;
            for (int n = 0; n < MASK.length; n++) {
                for (int i = 0; i < 5; i++) {
                    if (MASK[n][i] == 0) continue;
                    expectedPacked.putRow(k++, padded.getRow(n * 5 + i));
                    expectedPadded.putRow(n * 5 + i, padded.getRow(n * 5 + i));
                }
            }
            INDArray packed = p.gather(padded);
            assertArrayEquals(expectedPacked.data().asDouble(), packed.data().asDouble(), type + " gather");
            INDArray back = p.scatter(packed);
            assertArrayEquals(expectedPadded.data().asDouble(), back.data().asDouble(), type + " scatter: real rows back, padding rows zero");
            // a column-major copy takes the ND4J path: same values
            INDArray viaNd4j = p.scatter(p.gather(padded.dup('f')).dup('f'));
            assertArrayEquals(expectedPadded.dup('c').data().asDouble(), viaNd4j.dup('c').data().asDouble(), type + " ND4J path");
        }
    }

    @Test
    void rejectsArraysOfTheWrongHeight() {
        RowPacking p = RowPacking.of(MASK);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.gather(Nd4j.create(DataType.FLOAT, 14, 3)));
        assertEquals("expected 25 rows [rows, C], got [14, 3]", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> p.scatter(Nd4j.create(DataType.FLOAT, 25, 3)));
    }
}
