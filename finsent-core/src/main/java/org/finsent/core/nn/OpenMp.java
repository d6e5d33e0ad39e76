package org.finsent.core.nn;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import org.slf4j.LoggerFactory;

/**
 * OpenMP's wait policy for ND4J's native threads.
 *
 * <p>ND4J runs its element-wise ops, random draws and reductions on an OpenMP team. By default GNU OpenMP's idle
 * threads spin ({@code GOMP_SPINCOUNT} 300,000) after every op, on the cores FinSent's own threads ({@link HostThreads})
 * and OpenBLAS need next; with passive waits they sleep at once, which makes training steps faster, and much faster
 * on a machine where another process keeps the cores busy (docs/BENCHMARKS.md has the measurements).
 *
 * <p>libgomp reads its environment once, when ND4J's native library loads, so {@link #preferPassiveWaits()} must run
 * before anything touches ND4J — the first line of a {@code main}. The {@code finsent} command line calls it; an
 * application using FinSent as a library calls it too, or exports {@code OMP_WAIT_POLICY=PASSIVE}.
 */
public final class OpenMp {
    /** What {@link #preferPassiveWaits()} did. */
    public enum Outcome {
        /** {@code OMP_WAIT_POLICY=PASSIVE} is now in the process environment; ND4J's OpenMP will read it. */
        SET,
        /** The environment already had {@code OMP_WAIT_POLICY} or {@code GOMP_SPINCOUNT}: the user's choice stands. */
        USER_SETTING_KEPT,
        /** ND4J's native library was already loaded: OpenMP keeps the policy it started with (a warning is logged). */
        TOO_LATE,
        /** Not a platform where this applies (Windows), or the C library could not be reached. */
        UNSUPPORTED
    }

    private interface LibC extends Library {
        String getenv(String name);

        int setenv(String name, String value, int overwrite);
    }

    private static boolean warned;

    private OpenMp() {
    }

    /**
     * Puts {@code OMP_WAIT_POLICY=PASSIVE} into this process's environment unless the user set the wait policy or the
     * spin count, or ND4J's native library (and with it libgomp) is already loaded (then it warns, once). Safe to
     * call more than once.
     * No logger is created unless it warns, so a {@code main} can call it before configuring logging.
     */
    public static synchronized Outcome preferPassiveWaits() {
        if (Platform.isWindows()) return Outcome.UNSUPPORTED;
        LibC c;
        try {
            c = Native.load(Platform.C_LIBRARY_NAME, LibC.class);
        } catch (Throwable e) {   // no JNA native for this platform, or a locked-down JVM
            return Outcome.UNSUPPORTED;
        }
        // the C environment, not System.getenv(): that is the JVM's start-up copy and misses an earlier call's setenv
        if (c.getenv("OMP_WAIT_POLICY") != null || c.getenv("GOMP_SPINCOUNT") != null) {
            return Outcome.USER_SETTING_KEPT;
        }
        if (nativeOpenMpLoaded()) {
            if (!warned) LoggerFactory.getLogger(OpenMp.class).warn("ND4J's native library is already loaded, so OpenMP keeps its "
                    + "spinning waits (slower, and much slower on a busy machine): export OMP_WAIT_POLICY=PASSIVE, or "
                    + "call OpenMp.preferPassiveWaits() before anything uses ND4J");
            warned = true;                                                   // once per process
            return Outcome.TOO_LATE;
        }
        return c.setenv("OMP_WAIT_POLICY", "PASSIVE", 0) == 0 ? Outcome.SET : Outcome.UNSUPPORTED;
    }

    /** Whether JavaCPP has loaded libgomp or ND4J's CPU library (which links it) into this process. */
    static boolean nativeOpenMpLoaded() {
        for (String lib : org.bytedeco.javacpp.Loader.getLoadedLibraries().keySet()) {
            if (lib.startsWith("gomp") || lib.contains("nd4j")) return true;
        }
        return false;
    }
}
