package org.finsent.core.io;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * One named tensor as stored in a weight file: dtype, shape and its raw little-endian bytes in C (row-major)
 * order. The bytes are read-only and may be a slice of a memory-mapped file; nothing is copied until a
 * {@code to...} method is called. Immutable and thread-safe.
 */
public final class TensorData {

    private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final long numel;
    private final ByteBuffer data;

    /**
     * @param data exactly {@code numel * dtype.byteSize()} remaining bytes, little-endian, C order; the buffer's
     *             content must not change afterwards (this object keeps a read-only view, not a copy)
     * @throws IllegalArgumentException if a dimension is negative, the element count overflows, or the byte
     *                                  count does not match
     */
    public TensorData(String name, DType dtype, long[] shape, ByteBuffer data) {
        this.name = Objects.requireNonNull(name, "name");
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        this.shape = Objects.requireNonNull(shape, "shape").clone();
        this.numel = numel(this.shape);
        long bytes = Math.multiplyExact(numel, (long) dtype.byteSize());
        if (data.remaining() != bytes) {
            throw new IllegalArgumentException("tensor '" + name + "' " + dtype + Arrays.toString(shape) + " needs "
                    + bytes + " bytes, got " + data.remaining());
        }
        this.data = data.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The element count of a shape; throws IllegalArgumentException for negative dimensions or overflow. */
    public static long numel(long... shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("element count of shape " + Arrays.toString(shape) + " overflows");
            }
        }
        return n;
    }

    // ------------------------------------------------------------------------------------------ factories

    /** An F32 tensor holding a copy of {@code data} (C order). */
    public static TensorData of(String name, float[] data, long... shape) {
        return ofFloats(name, DType.F32, data, shape);
    }

    /** An F64 tensor holding a copy of {@code data} (C order). */
    public static TensorData of(String name, double[] data, long... shape) {
        checkLength(name, data.length, shape);
        ByteBuffer b = allocate((long) data.length * 8);
        b.asDoubleBuffer().put(data);
        return new TensorData(name, DType.F64, shape, b);
    }

    /** An I64 tensor holding a copy of {@code data} (C order). */
    public static TensorData of(String name, long[] data, long... shape) {
        checkLength(name, data.length, shape);
        ByteBuffer b = allocate((long) data.length * 8);
        b.asLongBuffer().put(data);
        return new TensorData(name, DType.I64, shape, b);
    }

    /**
     * A floating-point tensor of the given dtype (F32, F64, F16 or BF16) from float values; F16 and BF16 round
     * to nearest even.
     */
    public static TensorData ofFloats(String name, DType dtype, float[] data, long... shape) {
        checkLength(name, data.length, shape);
        ByteBuffer b = allocate((long) data.length * dtype.byteSize());
        switch (dtype) {
            case F32 -> b.asFloatBuffer().put(data);
            case F64 -> {
                for (int i = 0; i < data.length; i++) b.putDouble(i * 8, data[i]);
            }
            case F16 -> {
                for (int i = 0; i < data.length; i++) b.putShort(i * 2, FloatFormats.floatToHalf(data[i]));
            }
            case BF16 -> {
                for (int i = 0; i < data.length; i++) b.putShort(i * 2, FloatFormats.floatToBf16(data[i]));
            }
            default -> throw new IllegalArgumentException("ofFloats needs a floating-point dtype, got " + dtype);
        }
        return new TensorData(name, dtype, shape, b);
    }

    private static void checkLength(String name, int length, long[] shape) {
        long n = numel(shape);
        if (n != length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " holds " + n
                    + " elements, got " + length);
        }
    }

    private static ByteBuffer allocate(long bytes) {
        if (bytes > MAX_ARRAY) throw new IllegalArgumentException("tensor of " + bytes + " bytes is too large");
        return ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    // ------------------------------------------------------------------------------------------ accessors

    public String name() {
        return name;
    }

    public DType dtype() {
        return dtype;
    }

    /** A copy of the shape. */
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}. */
    public long dim(int i) {
        return shape[i];
    }

    /** The number of elements (1 for a scalar). */
    public long numel() {
        return numel;
    }

    /** The number of data bytes. */
    public long byteSize() {
        return numel * dtype.byteSize();
    }

    /** A fresh read-only little-endian view of the raw bytes, positioned at 0. */
    public ByteBuffer data() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The same data under another name. */
    public TensorData withName(String newName) {
        return new TensorData(newName, dtype, shape, data());
    }

    /** The same data viewed with another shape of equal element count. */
    public TensorData reshape(long... newShape) {
        if (numel(newShape) != numel) {
            throw new IllegalArgumentException("cannot reshape '" + name + "' " + Arrays.toString(shape) + " to "
                    + Arrays.toString(newShape));
        }
        return new TensorData(name, dtype, newShape, data());
    }

    /** The transpose of a rank-2 tensor ([r, c] to [c, r]), copied to C order; any dtype. */
    public TensorData transpose2d() {
        if (shape.length != 2) {
            throw new IllegalStateException("transpose2d needs a rank-2 tensor, '" + name + "' has shape "
                    + Arrays.toString(shape));
        }
        int es = dtype.byteSize();
        ByteBuffer out = allocate(byteSize());
        long rows = shape[0], cols = shape[1];
        ByteBuffer in = data;
        if (es == 4) {
            for (long r = 0; r < rows; r++) {
                for (long c = 0; c < cols; c++) {
                    out.putInt((int) ((c * rows + r) * 4), in.getInt((int) ((r * cols + c) * 4)));
                }
            }
        } else {
            byte[] tmp = new byte[es];
            for (long r = 0; r < rows; r++) {
                for (long c = 0; c < cols; c++) {
                    in.get((int) ((r * cols + c) * es), tmp);
                    out.put((int) ((c * rows + r) * es), tmp);
                }
            }
        }
        return new TensorData(name, dtype, new long[]{cols, rows}, out);
    }

    // ------------------------------------------------------------------------------------------ conversions

    private int checkedCount() {
        if (numel > MAX_ARRAY) {
            throw new IllegalStateException("tensor '" + name + "' has " + numel + " elements, too many for a Java array");
        }
        return (int) numel;
    }

    /**
     * The elements as floats in C order: F32, F16 and BF16 exactly; F64 rounded to nearest; integers and BOOL
     * (0/1) converted.
     */
    public float[] toFloats() {
        int n = checkedCount();
        float[] out = new float[n];
        ByteBuffer b = data;
        switch (dtype) {
            case F32 -> data().asFloatBuffer().get(out);
            case F64 -> {
                for (int i = 0; i < n; i++) out[i] = (float) b.getDouble(i * 8);
            }
            case F16 -> {
                for (int i = 0; i < n; i++) out[i] = FloatFormats.halfToFloat(b.getShort(i * 2));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) out[i] = FloatFormats.bf16ToFloat(b.getShort(i * 2));
            }
            default -> {
                for (int i = 0; i < n; i++) out[i] = (float) integerAt(b, i);
            }
        }
        return out;
    }

    /** The elements as doubles in C order: every floating dtype exactly; integers and BOOL (0/1) converted. */
    public double[] toDoubles() {
        int n = checkedCount();
        double[] out = new double[n];
        ByteBuffer b = data;
        switch (dtype) {
            case F64 -> data().asDoubleBuffer().get(out);
            case F32 -> {
                for (int i = 0; i < n; i++) out[i] = b.getFloat(i * 4);
            }
            case F16 -> {
                for (int i = 0; i < n; i++) out[i] = FloatFormats.halfToFloat(b.getShort(i * 2));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) out[i] = FloatFormats.bf16ToFloat(b.getShort(i * 2));
            }
            default -> {
                for (int i = 0; i < n; i++) out[i] = integerAt(b, i);
            }
        }
        return out;
    }

    /** The elements of an integer or BOOL tensor as longs in C order (U8 unsigned). */
    public long[] toLongs() {
        if (dtype.isFloatingPoint()) {
            throw new IllegalStateException("tensor '" + name + "' is " + dtype + ", not an integer tensor");
        }
        int n = checkedCount();
        long[] out = new long[n];
        for (int i = 0; i < n; i++) out[i] = integerAt(data, i);
        return out;
    }

    private long integerAt(ByteBuffer b, int i) {
        return switch (dtype) {
            case I64 -> b.getLong(i * 8);
            case I32 -> b.getInt(i * 4);
            case I16 -> b.getShort(i * 2);
            case I8 -> b.get(i);
            case U8, BOOL -> b.get(i) & 0xff;
            default -> throw new IllegalStateException(dtype.toString());
        };
    }

    /**
     * A new C-order ND4J array of the given type with this tensor's shape (a rank-0 tensor gives a scalar).
     * Values go through {@link #toDoubles()} for DOUBLE, {@link #toLongs()} for integer targets from integer
     * tensors, and {@link #toFloats()} otherwise.
     */
    public INDArray toINDArray(DataType type) {
        INDArray arr;
        if (type == DataType.DOUBLE) {
            double[] v = toDoubles();
            arr = shape.length == 0 ? Nd4j.scalar(v[0]) : Nd4j.create(v, shape, 'c');
        } else if (!dtype.isFloatingPoint() && (type == DataType.LONG || type == DataType.INT)) {
            long[] v = toLongs();
            arr = shape.length == 0 ? Nd4j.scalar(v[0]) : Nd4j.createFromArray(v).reshape('c', shape);
        } else {
            float[] v = toFloats();
            arr = shape.length == 0 ? Nd4j.scalar(v[0]) : Nd4j.create(v, shape, 'c');
        }
        return arr.dataType() == type ? arr : arr.castTo(type);
    }

    /** True when dtype, shape and every byte are equal (the name is not compared). */
    public boolean contentEquals(TensorData other) {
        return dtype == other.dtype && Arrays.equals(shape, other.shape) && data().equals(other.data());
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
