package org.finsent.core.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;
import java.util.Comparator;

/**
 * Memory-maps byte ranges of a file read-only, in windows of at most 2 GiB (a ByteBuffer's limit), so that
 * files of any size can be read without copying them onto the heap. Small files are read instead of mapped.
 */
final class MappedRegions {

    /** Largest window one mapping covers. */
    static final long MAX_WINDOW = Integer.MAX_VALUE;
    /** Files up to this size are read onto the heap (one mapping per tiny file costs more than it saves). */
    static final long READ_BELOW = 1 << 16;

    private MappedRegions() {
    }

    /**
     * Views of {@code [starts[i], starts[i] + lengths[i])} of the channel's file, little-endian. The ranges must
     * lie inside the file (callers validate them first) and each be at most 2 GiB.
     *
     * @param names the tensor names, only for error messages
     */
    static ByteBuffer[] map(FileChannel ch, String file, String[] names, long[] starts, long[] lengths)
            throws IOException {
        return map(ch, file, names, starts, lengths, MAX_WINDOW, READ_BELOW);
    }

    /** As {@link #map(FileChannel, String, String[], long[], long[])} with explicit limits (for tests). */
    static ByteBuffer[] map(FileChannel ch, String file, String[] names, long[] starts, long[] lengths,
                            long maxWindow, long readBelow) throws IOException {
        int n = starts.length;
        ByteBuffer[] out = new ByteBuffer[n];
        long size = ch.size();
        if (size <= readBelow) {
            ByteBuffer all = ByteBuffer.allocate((int) size);
            while (all.hasRemaining()) {
                if (ch.read(all, all.position()) < 0) throw new WeightFormatException(file, null, "file shrank while reading");
            }
            for (int i = 0; i < n; i++) out[i] = all.slice((int) starts[i], (int) lengths[i]).order(ByteOrder.LITTLE_ENDIAN);
            return out;
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            if (lengths[i] > maxWindow) {
                throw new WeightFormatException(file, names[i], "tensor of " + lengths[i]
                        + " bytes exceeds " + maxWindow + " bytes, more than one Java buffer can address");
            }
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingLong(i -> starts[i]));
        int k = 0;
        while (k < n) {
            long winStart = starts[order[k]];
            long winEnd = winStart + lengths[order[k]];
            int j = k + 1;
            while (j < n && Math.max(winEnd, starts[order[j]] + lengths[order[j]]) - winStart <= maxWindow) {
                winEnd = Math.max(winEnd, starts[order[j]] + lengths[order[j]]);
                j++;
            }
            MappedByteBuffer win = ch.map(FileChannel.MapMode.READ_ONLY, winStart, winEnd - winStart);
            for (int m = k; m < j; m++) {
                int i = order[m];
                out[i] = win.slice((int) (starts[i] - winStart), (int) lengths[i]).order(ByteOrder.LITTLE_ENDIAN);
            }
            k = j;
        }
        return out;
    }
}
