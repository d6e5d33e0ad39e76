package org.finsent.core.io;

/** Limits the fuzz targets share. */
public final class FuzzLimits {

    /**
     * An input that takes more than this is a finding, also where no fuzzer watches (the replay of plain
     * {@code mvn test}); under -Pfuzz, libFuzzer's -timeout additionally stops inputs that never end.
     */
    public static final int MAX_SECONDS = 5;

    private FuzzLimits() {
    }

    /** Throws (a finding) if more than {@link #MAX_SECONDS} passed since {@code start} (System.nanoTime()). */
    public static void checkTime(long start) {
        long ms = (System.nanoTime() - start) / 1_000_000;
        if (ms > MAX_SECONDS * 1000L) throw new AssertionError("one input took " + ms + " ms (limit " + MAX_SECONDS + " s)");
    }
}
