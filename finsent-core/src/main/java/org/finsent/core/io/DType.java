package org.finsent.core.io;

/**
 * Element types of stored tensors. Names are the safetensors dtype strings; all data is little-endian.
 */
public enum DType {
    F64(8, true, 12),
    F32(4, true, 11),
    F16(2, true, 7),
    BF16(2, true, 8),
    I64(8, false, 13),
    I32(4, false, 9),
    I16(2, false, 5),
    I8(1, false, 2),
    U8(1, false, 1),
    BOOL(1, false, 0);

    private final int byteSize;
    private final boolean floatingPoint;
    /** Position in the Rust safetensors {@code Dtype} enum, whose order the writer sorts by. */
    private final int safetensorsRank;

    DType(int byteSize, boolean floatingPoint, int safetensorsRank) {
        this.byteSize = byteSize;
        this.floatingPoint = floatingPoint;
        this.safetensorsRank = safetensorsRank;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** True for F64, F32, F16 and BF16. */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    int safetensorsRank() {
        return safetensorsRank;
    }

    /** The dtype for a safetensors dtype string ("F32", "BF16", ...), or null when this enum has none. */
    public static DType fromSafetensors(String name) {
        for (DType d : values()) {
            if (d.name().equals(name)) return d;
        }
        return null;
    }
}
