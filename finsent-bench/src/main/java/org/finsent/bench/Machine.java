package org.finsent.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The machine line quoted with every table: CPU, cores, JVM, OpenBLAS variables. */
public final class Machine {
    private Machine() {
    }

    public static String describe() {
        String cpu = "?";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        } catch (IOException ignored) {
            // not Linux
        }
        return String.format("MACHINE %s, %d vCPU, %s %s, OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s OMP_NUM_THREADS=%s LD_PRELOAD=%s",
                cpu, Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.name"), System.getProperty("java.version"),
                System.getenv("OPENBLAS_CORETYPE"), System.getenv("OPENBLAS_L2_SIZE"), System.getenv("OMP_NUM_THREADS"), System.getenv("LD_PRELOAD"));
    }

    /** VmRSS of this process. */
    public static long rssBytes() {
        return status("VmRSS:");
    }

    /** VmHWM: the peak resident size of this process. */
    public static long peakRssBytes() {
        return status("VmHWM:");
    }

    private static long status(String key) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith(key)) return Long.parseLong(l.substring(key.length()).trim().split("\\s+")[0]) * 1024;
            }
        } catch (IOException ignored) {
            // not Linux
        }
        return -1;
    }
}
