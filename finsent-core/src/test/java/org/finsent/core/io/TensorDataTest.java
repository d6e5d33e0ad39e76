package org.finsent.core.io;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorDataTest {

    @Test
    void factoriesAndConversions() {
        TensorData f = TensorData.of("w", new float[]{1, 2, 3, 4, 5, 6}, 2, 3);
        assertEquals(DType.F32, f.dtype());
        assertEquals(6, f.numel());
        assertEquals(24, f.byteSize());
        assertArrayEquals(new double[]{1, 2, 3, 4, 5, 6}, f.toDoubles());
        assertThrows(IllegalStateException.class, f::toLongs);
        TensorData d = TensorData.of("d", new double[]{0.1, -2}, 2);
        assertArrayEquals(new float[]{0.1f, -2f}, d.toFloats());
        TensorData l = TensorData.of("ids", new long[]{Long.MIN_VALUE, 7}, 1, 2);
        assertArrayEquals(new long[]{Long.MIN_VALUE, 7}, l.toLongs());
        TensorData h = TensorData.ofFloats("h", DType.F16, new float[]{1f / 3, 65504f, 1e-8f}, 3);
        assertArrayEquals(new float[]{0.333251953125f, 65504f, 0f}, h.toFloats());
        TensorData b = TensorData.ofFloats("b", DType.BF16, new float[]{1f / 3}, 1);
        assertEquals(0.333984375f, b.toFloats()[0]);
        assertEquals("w F32[2, 3]", f.toString());
    }

    @Test
    void validationAndReadOnlyData() {
        assertThrows(IllegalArgumentException.class, () -> TensorData.of("w", new float[5], 2, 3));
        assertThrows(IllegalArgumentException.class, () -> TensorData.numel(-1, 3));
        assertThrows(IllegalArgumentException.class, () -> TensorData.numel(1L << 40, 1L << 40));
        assertThrows(IllegalArgumentException.class,
                () -> new TensorData("w", DType.F32, new long[]{3}, ByteBuffer.allocate(8)));
        TensorData t = TensorData.of("w", new float[]{1, 2}, 2);
        assertThrows(ReadOnlyBufferException.class, () -> t.data().putFloat(0, 9f));
        assertArrayEquals(new float[]{1, 2}, t.toFloats());
        long[] shape = t.shape();
        shape[0] = 99;
        assertArrayEquals(new long[]{2}, t.shape(), "shape() is a copy");
    }

    @Test
    void transposeAndReshape() {
        TensorData f = TensorData.of("w", new float[]{1, 2, 3, 4, 5, 6}, 2, 3);
        TensorData ft = f.transpose2d();
        assertArrayEquals(new long[]{3, 2}, ft.shape());
        assertArrayEquals(new float[]{1, 4, 2, 5, 3, 6}, ft.toFloats());
        TensorData h = TensorData.ofFloats("h", DType.F16, new float[]{1, 2, 3, 4, 5, 6}, 2, 3);
        assertArrayEquals(new float[]{1, 4, 2, 5, 3, 6}, h.transpose2d().toFloats());
        assertTrue(ft.transpose2d().contentEquals(f));
        assertArrayEquals(new long[]{3, 2}, f.reshape(3, 2).shape());
        assertThrows(IllegalArgumentException.class, () -> f.reshape(4));
        assertThrows(IllegalStateException.class, () -> TensorData.of("v", new float[3], 3).transpose2d());
        assertEquals("x", f.withName("x").name());
    }

    @Test
    void toINDArrayKeepsShapeAndCOrder() {
        float[] v = {1, 2, 3, 4, 5, 6};
        TensorData f = TensorData.of("w", v, 2, 3);
        for (DataType type : List.of(DataType.FLOAT, DataType.DOUBLE, DataType.HALF)) {
            INDArray a = f.toINDArray(type);
            assertEquals(type, a.dataType());
            assertArrayEquals(new long[]{2, 3}, a.shape());
            for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) assertEquals(v[i * 3 + j], a.getDouble(i, j), 0.0);
        }
        TensorData d = TensorData.of("d", new double[]{Math.PI}, 1);
        assertEquals(Math.PI, d.toINDArray(DataType.DOUBLE).getDouble(0), 0.0, "F64 stays exact");
        INDArray ids = TensorData.of("ids", new long[]{1L << 40, 3}, 2).toINDArray(DataType.LONG);
        assertEquals(1L << 40, ids.getLong(0));
        INDArray s = TensorData.of("s", new float[]{2.5f}).toINDArray(DataType.FLOAT);
        assertEquals(0, s.rank());
        assertEquals(2.5f, s.getFloat(0));
        TensorData half = TensorData.ofFloats("h", DType.F16, new float[]{0x1p-24f, 65504f}, 2);
        assertArrayEquals(new float[]{0x1p-24f, 65504f}, half.toINDArray(DataType.FLOAT).toFloatVector());
    }

    @Test
    void stateDictKeepsOrderAndCountsParameters() {
        StateDict sd = new StateDict();
        sd.put(TensorData.of("b", new float[3], 3));
        sd.put(TensorData.of("a", new float[6], 2, 3));
        assertEquals(List.of("b", "a"), List.copyOf(sd.names()));
        assertEquals(9, sd.totalParameters());
        assertNull(sd.get("c"));
        assertThrows(java.util.NoSuchElementException.class, () -> sd.require("c"));
        assertTrue(sd.contains("a"));
        sd.remove("a");
        assertFalse(sd.contains("a"));
        assertThrows(UnsupportedOperationException.class, () -> sd.names().clear());
    }
}
