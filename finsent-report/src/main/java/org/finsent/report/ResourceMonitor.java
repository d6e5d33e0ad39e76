package org.finsent.report;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import oshi.SystemInfo;
import oshi.hardware.CentralProcessor;
import oshi.hardware.GlobalMemory;
import oshi.software.os.OSProcess;
import oshi.software.os.OperatingSystem;

/**
 * Samples the resources a training run uses on a daemon thread, and summarises them into
 * {@code resources.json}.
 *
 * <pre>{@code
 * try (ResourceMonitor monitor = ResourceMonitor.start()) {       // samples every 500 ms
 *     trainer.fit(...);
 *     monitor.close();                                            // stop before writing (optional)
 *     monitor.writeJson(runDir.resolve("resources.json"));
 *     ResourceMonitor.Summary s = monitor.summary();
 * }
 * }</pre>
 *
 * <h2>What is measured (one {@link Sample} per tick)</h2>
 * <ul>
 *   <li><b>process CPU</b> — OSHI's kernel + user time of this process between two ticks, divided by the wall time
 *       and by the number of logical processors, so {@code 100} means every core busy
 *       (psutil's {@code Process.cpu_percent() / cpu_count()}); one busy thread on 2 cores reads about 50. The kernel
 *       counts CPU time in 10 ms clock ticks, so one sample over a short interval is coarse; averages are exact.</li>
 *   <li><b>system CPU</b> — OSHI {@link CentralProcessor#getSystemCpuLoadBetweenTicks(long[], long[])} between the
 *       last two distinct readings of the machine's tick counters ({@code /proc/stat}), 0–100. OSHI caches those
 *       counters for 300 ms, so with shorter intervals a tick repeats the previous value.</li>
 *   <li><b>process RSS</b> — OSHI {@link OSProcess#getResidentSetSize()} (Linux: {@code /proc/self/stat}).</li>
 *   <li><b>JVM heap used</b> — {@link MemoryMXBean#getHeapMemoryUsage()}{@code .getUsed()}.</li>
 *   <li><b>ND4J off-heap</b> — what ND4J 1.0.0-M2.1 holds outside the Java heap, in bytes:
 *       {@code Nd4j.getEnvironment().getDeviceCouner(device)} (sic; libnd4j's {@code MemoryCounter}, which counts every
 *       ordinary {@code INDArray} data buffer, allocated in native code and therefore invisible to JavaCPP) plus
 *       {@code Nd4j.getMemoryManager().allocatedMemory(device)} (workspaces via ND4J's {@code AllocationsTracker}, and on
 *       the CPU backend also JavaCPP's {@code Pointer.totalBytes()}, which holds shape buffers only — a few bytes per array).
 *       On the CPU backend this is host RAM; on CUDA it is ND4J's allocations on the GPU. {@code Pointer.totalBytes()}
 *       alone is <em>not</em> usable in M2.1: it stays at tens of bytes while gigabytes of arrays exist.
 *       {@code null} when ND4J sampling is off or the backend cannot be reached.</li>
 *   <li><b>system memory used</b> — OSHI {@link GlobalMemory}: {@code (total - available) / total * 100}.</li>
 *   <li><b>GPU memory used</b> — CUDA backend only: device total minus device free memory
 *       ({@code NativeOps.getDeviceTotalMemory/getDeviceFreeMemory}), i.e. all processes on that GPU, as
 *       {@code nvidia-smi} shows. On the CPU backend it is {@code null} (never faked as 0).</li>
 * </ul>
 *
 * <h2>{@code resources.json} schema ({@link Report})</h2>
 * Units are in the field names: {@code Percent} is 0–100, {@code Bytes} are bytes, {@code Ms} milliseconds,
 * {@code Seconds} seconds. Nullable fields are written as {@code null}, never omitted.
 * <pre>{@code
 * {
 *   "summary": {
 *     "startedAt": "2025-01-01T12:00:00Z",       // ISO-8601 UTC instant of start()
 *     "wallTimeSeconds": 123.4,                   // start() to close() (to now while running)
 *     "sampleCount": 247,                         // samples aggregated (all of them, even if the timeline was thinned)
 *     "intervalMs": 500,
 *     "backend": "CPU" | "CUDA" | null,           // ND4J backend; null when ND4J sampling is off / unavailable
 *     "logicalCores": 16,
 *     "systemMemoryTotalBytes": 68719476736,
 *     "gpuMemoryTotalBytes": 85899345920 | null,  // CUDA only
 *     "processCpuPercent":       {"avg": 43.1, "max": 99.0},   // avg: time-weighted mean over the ticks
 *     "systemCpuPercent":        {"avg": ..., "max": ...},
 *     "processRssBytes":         {"avg": ..., "max": ...},
 *     "heapUsedBytes":           {"avg": ..., "max": ...},
 *     "nd4jOffHeapBytes":        {"avg": ..., "max": ...} | null,
 *     "systemMemoryUsedPercent": {"avg": ..., "max": ...},
 *     "gpuMemoryUsedBytes":      {"avg": ..., "max": ...} | null   // CUDA only
 *   },
 *   "samples": [                                  // timeline, oldest first
 *     {"tMs": 500, "processCpuPercent": 48.7, "systemCpuPercent": 52.0, "processRssBytes": 734003200,
 *      "heapUsedBytes": 123456789, "nd4jOffHeapBytes": 400000016 | null, "systemMemoryUsedPercent": 41.2,
 *      "gpuMemoryUsedBytes": null}
 *   ]
 * }
 * }</pre>
 * {@code tMs} is milliseconds since {@code startedAt}. To bound memory on long runs the stored timeline keeps at most
 * {@link Options#maxTimelineSamples()} samples: when it is full every other sample is dropped and from then on only
 * every second (fourth, ...) tick is kept. The summary is always computed over every tick.
 *
 * <p>Thread-safe: {@link #sampleNow()}, {@link #summary()}, {@link #samples()} and {@link #writeJson(Path)} may be
 * called from any thread while the sampler runs.
 */
public final class ResourceMonitor implements AutoCloseable {

    /** Default sampling interval, milliseconds. */
    public static final long DEFAULT_INTERVAL_MS = 500;

    private static final Logger LOG = LoggerFactory.getLogger(ResourceMonitor.class);
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /**
     * @param intervalMs         sampling period in milliseconds (≥ 10)
     * @param sampleNd4j         read ND4J's off-heap counters and, on CUDA, GPU memory (initialises the ND4J backend
     *                           if nothing has yet)
     * @param maxTimelineSamples most samples kept for {@link Report#samples()} (≥ 2); the summary uses all ticks
     */
    public record Options(long intervalMs, boolean sampleNd4j, int maxTimelineSamples) {
        public Options {
            if (intervalMs < 10) throw new IllegalArgumentException("intervalMs must be >= 10, got " + intervalMs);
            if (maxTimelineSamples < 2) throw new IllegalArgumentException("maxTimelineSamples must be >= 2");
        }

        /** 500 ms, ND4J on, 20 000 timeline samples (2 h 45 min at 500 ms before thinning). */
        public static Options defaults() {
            return new Options(DEFAULT_INTERVAL_MS, true, 20_000);
        }

        public Options withIntervalMs(long ms) {
            return new Options(ms, sampleNd4j, maxTimelineSamples);
        }

        public Options withSampleNd4j(boolean on) {
            return new Options(intervalMs, on, maxTimelineSamples);
        }

        public Options withMaxTimelineSamples(int n) {
            return new Options(intervalMs, sampleNd4j, n);
        }
    }

    /** One tick. Units as in the field names; see the class Javadoc. */
    public record Sample(long tMs, double processCpuPercent, double systemCpuPercent, long processRssBytes,
                         long heapUsedBytes, Long nd4jOffHeapBytes, double systemMemoryUsedPercent,
                         Long gpuMemoryUsedBytes) {
    }

    /**
     * Average and maximum of one quantity over all ticks, in that quantity's unit. The average is time-weighted:
     * each sample counts for the time since the previous one (the first: since start).
     */
    public record Stat(double avg, double max) {
    }

    /** Aggregates over every tick; see the class Javadoc for the JSON form. */
    public record Summary(String startedAt, double wallTimeSeconds, int sampleCount, long intervalMs, String backend,
                          int logicalCores, long systemMemoryTotalBytes, Long gpuMemoryTotalBytes,
                          Stat processCpuPercent, Stat systemCpuPercent, Stat processRssBytes, Stat heapUsedBytes,
                          Stat nd4jOffHeapBytes, Stat systemMemoryUsedPercent, Stat gpuMemoryUsedBytes) {
    }

    /** The content of {@code resources.json}. */
    public record Report(Summary summary, List<Sample> samples) {
        public Report {
            samples = List.copyOf(samples);
        }
    }

    /** Streaming time-weighted average and maximum. */
    private static final class Acc {
        double sum;
        double weight;
        double max = Double.NEGATIVE_INFINITY;
        int n;

        void add(double v, double w) {
            sum += v * w;
            weight += w;
            max = Math.max(max, v);
            n++;
        }

        void add(Long v, double w) {
            if (v != null) add(v.doubleValue(), w);
        }

        Stat stat() {
            if (n == 0) return null;
            // a weighted mean lies within the samples' range; rounding of Σ v·w / Σ w can put it an ulp above the
            // maximum when every sample is equal (OSHI repeats cached values), so it is held to the maximum
            return new Stat(weight > 0 ? Math.min(max, sum / weight) : max, max);
        }
    }

    private final Options options;
    private final Instant startedAt = Instant.now();
    private final long startNanos = System.nanoTime();
    private final CentralProcessor cpu;
    private final GlobalMemory memory;
    private final OperatingSystem os;
    private final int pid;
    private final int logicalCores;
    private final MemoryMXBean memoryBean = ManagementFactory.getMemoryMXBean();
    private final Nd4jProbe nd4j;
    private final Thread thread;

    // guarded by this
    private long[] prevSystemTicks;
    private double lastSystemCpuPercent;
    private long prevProcessCpuMs;
    private long prevNanos;
    private final List<Sample> timeline = new ArrayList<>();
    private int keepEvery = 1;
    private long tick;
    private final Acc procCpu = new Acc(), sysCpu = new Acc(), rss = new Acc(), heap = new Acc(), offHeap = new Acc(),
            sysMem = new Acc(), gpu = new Acc();
    private Sample latest;
    private volatile boolean running = true;
    private long endNanos = -1;

    private ResourceMonitor(Options options) {
        this.options = Objects.requireNonNull(options, "options");
        SystemInfo si = new SystemInfo();
        this.cpu = si.getHardware().getProcessor();
        this.memory = si.getHardware().getMemory();
        this.os = si.getOperatingSystem();
        this.pid = os.getProcessId();
        this.logicalCores = Math.max(1, cpu.getLogicalProcessorCount());
        this.nd4j = options.sampleNd4j() ? Nd4jProbe.create() : null;
        this.prevSystemTicks = cpu.getSystemCpuLoadTicks();
        this.prevProcessCpuMs = processCpuMs(os.getProcess(pid));
        this.prevNanos = System.nanoTime();
        this.thread = new Thread(this::loop, "finsent-resource-monitor");
        thread.setDaemon(true);
        thread.start();
    }

    /** Starts sampling every {@value #DEFAULT_INTERVAL_MS} ms. */
    public static ResourceMonitor start() {
        return new ResourceMonitor(Options.defaults());
    }

    /** Starts sampling every {@code intervalMs} milliseconds. */
    public static ResourceMonitor start(long intervalMs) {
        return new ResourceMonitor(Options.defaults().withIntervalMs(intervalMs));
    }

    public static ResourceMonitor start(Options options) {
        return new ResourceMonitor(options);
    }

    public Options options() {
        return options;
    }

    /** Whether the sampling thread is alive. */
    public boolean isRunning() {
        return thread.isAlive();
    }

    private void loop() {
        long period = TimeUnit.MILLISECONDS.toNanos(options.intervalMs());
        long next = System.nanoTime() + period;
        while (running) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
                try {
                    TimeUnit.NANOSECONDS.sleep(wait);
                } catch (InterruptedException e) {
                    break;
                }
            }
            if (!running) break;
            try {
                sampleNow();
            } catch (RuntimeException | LinkageError e) {
                LOG.warn("resource sample failed: {}", e.toString());
            }
            next += period;
            long now = System.nanoTime();
            if (next < now) next = now + period;   // fell behind (suspended machine, long GC): do not burst
        }
    }

    /**
     * Takes a sample now (in the calling thread), adds it to the summary and timeline and returns it. CPU
     * percentages cover the time since the previous sample, whichever thread took it.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    public synchronized Sample sampleNow() {
        if (endNanos >= 0) throw new IllegalStateException("ResourceMonitor is closed");
        long now = System.nanoTime();
        OSProcess proc = os.getProcess(pid);
        long procCpuMs = processCpuMs(proc);
        double wallMs = (now - prevNanos) / 1e6;
        double procPct = wallMs <= 0 ? 0 : clampPct(100.0 * (procCpuMs - prevProcessCpuMs) / (wallMs * logicalCores));
        // OSHI caches the tick counters (oshi.util.memoizer.expiration, 300 ms): an unchanged array means "no new
        // reading", not "idle", so keep the last value instead of averaging in a spurious 0.
        long[] ticks = cpu.getSystemCpuLoadTicks();
        if (!Arrays.equals(ticks, prevSystemTicks)) {
            lastSystemCpuPercent = clampPct(100.0 * cpu.getSystemCpuLoadBetweenTicks(prevSystemTicks, ticks));
            prevSystemTicks = ticks;
        }
        double sysPct = lastSystemCpuPercent;
        prevProcessCpuMs = procCpuMs;
        prevNanos = now;

        long total = memory.getTotal();
        double memPct = total <= 0 ? 0 : clampPct(100.0 * (total - memory.getAvailable()) / total);
        Sample s = new Sample(
                TimeUnit.NANOSECONDS.toMillis(now - startNanos),
                procPct,
                sysPct,
                proc == null ? 0 : proc.getResidentSetSize(),
                memoryBean.getHeapMemoryUsage().getUsed(),
                nd4j == null ? null : nd4j.offHeapBytes(),
                memPct,
                nd4j == null ? null : nd4j.gpuUsedBytes());
        // each value stands for the time since the previous sample, so extra sampleNow() calls do not bias averages
        double w = Math.max(wallMs, 1e-3);
        procCpu.add(s.processCpuPercent(), w);
        sysCpu.add(s.systemCpuPercent(), w);
        rss.add(s.processRssBytes(), w);
        heap.add(s.heapUsedBytes(), w);
        offHeap.add(s.nd4jOffHeapBytes(), w);
        sysMem.add(s.systemMemoryUsedPercent(), w);
        gpu.add(s.gpuMemoryUsedBytes(), w);
        if (tick++ % keepEvery == 0) {
            timeline.add(s);
            if (timeline.size() >= options.maxTimelineSamples()) {
                List<Sample> kept = new ArrayList<>(timeline.size() / 2 + 1);
                for (int i = 0; i < timeline.size(); i += 2) kept.add(timeline.get(i));
                timeline.clear();
                timeline.addAll(kept);
                keepEvery *= 2;
            }
        }
        latest = s;
        return s;
    }

    /** The most recent sample, or {@code null} before the first one. */
    public synchronized Sample latest() {
        return latest;
    }

    /** The stored timeline (a copy), oldest first. */
    public synchronized List<Sample> samples() {
        return List.copyOf(timeline);
    }

    /** Average and maximum of each quantity over every tick so far; callable while running. */
    public synchronized Summary summary() {
        long end = endNanos >= 0 ? endNanos : System.nanoTime();
        return new Summary(startedAt.toString(), (end - startNanos) / 1e9, procCpu.n, options.intervalMs(),
                nd4j == null ? null : nd4j.backend(), logicalCores, memory.getTotal(),
                nd4j == null ? null : nd4j.gpuTotalBytes(),
                procCpu.stat(), sysCpu.stat(), rss.stat(), heap.stat(), offHeap.stat(), sysMem.stat(), gpu.stat());
    }

    /** Summary plus timeline, as written by {@link #writeJson(Path)}. */
    public synchronized Report report() {
        return new Report(summary(), timeline);
    }

    /**
     * Writes {@link #report()} as JSON (schema in the class Javadoc). If {@code path} is an existing directory the
     * file is {@code path/resources.json}; missing parent directories are created.
     *
     * @return the file written
     */
    public Path writeJson(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve("resources.json") : path;
        Report report = report();
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            JSON.writeValue(file.toFile(), report);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        return file;
    }

    /** Reads a file written by {@link #writeJson(Path)}. */
    public static Report readJson(Path file) {
        try {
            return JSON.readValue(file.toFile(), Report.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** Stops the sampler and waits for it (at most 5 s); the summary's wall time ends here. Idempotent. */
    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            if (endNanos < 0) endNanos = System.nanoTime();
        }
    }

    /** Convenience for plotting or logging one metric of the timeline. */
    public static double[] column(List<Sample> samples, ToDoubleFunction<Sample> f) {
        return samples.stream().mapToDouble(f).toArray();
    }

    private static long processCpuMs(OSProcess p) {
        return p == null ? 0 : p.getKernelTime() + p.getUserTime();
    }

    private static double clampPct(double v) {
        return Double.isFinite(v) ? Math.max(0, Math.min(100, v)) : 0;
    }

    /**
     * ND4J access, isolated so that a missing or broken backend only nulls the ND4J fields. A probe that throws
     * once is switched off.
     */
    private static final class Nd4jProbe {
        private final String backend;
        private final int device;
        private final boolean cuda;
        private final Long gpuTotal;
        private volatile boolean offHeapOk = true;
        private volatile boolean gpuOk;

        private Nd4jProbe(String backend, int device, boolean cuda, Long gpuTotal) {
            this.backend = backend;
            this.device = device;
            this.cuda = cuda;
            this.gpuTotal = gpuTotal;
            this.gpuOk = cuda && gpuTotal != null;
        }

        static Nd4jProbe create() {
            try {
                boolean isCpu = org.nd4j.linalg.factory.Nd4j.getEnvironment().isCPU();
                // the device of the thread that starts the monitor (the training thread), not of the sampler thread
                int device = org.nd4j.linalg.factory.Nd4j.getAffinityManager().getDeviceForCurrentThread();
                Long gpuTotal = null;
                if (!isCpu) {
                    try {
                        long t = org.nd4j.nativeblas.NativeOpsHolder.getInstance().getDeviceNativeOps()
                                .getDeviceTotalMemory(device);
                        gpuTotal = t > 0 ? t : null;
                    } catch (RuntimeException | LinkageError e) {
                        LOG.warn("GPU memory not readable: {}", e.toString());
                    }
                }
                return new Nd4jProbe(isCpu ? "CPU" : "CUDA", device, !isCpu, gpuTotal);
            } catch (RuntimeException | LinkageError e) {
                LOG.warn("ND4J not available to the resource monitor: {}", e.toString());
                return null;
            }
        }

        String backend() {
            return backend;
        }

        Long gpuTotalBytes() {
            return gpuTotal;
        }

        Long offHeapBytes() {
            if (!offHeapOk) return null;
            try {
                long counted = org.nd4j.linalg.factory.Nd4j.getEnvironment().getDeviceCouner(device);
                long managed = org.nd4j.linalg.factory.Nd4j.getMemoryManager().allocatedMemory(device);
                return Math.max(0, counted) + Math.max(0, managed);
            } catch (RuntimeException | LinkageError e) {
                offHeapOk = false;
                LOG.warn("ND4J off-heap counter not readable: {}", e.toString());
                return null;
            }
        }

        Long gpuUsedBytes() {
            if (!cuda || !gpuOk) return null;
            try {
                long free = org.nd4j.nativeblas.NativeOpsHolder.getInstance().getDeviceNativeOps()
                        .getDeviceFreeMemory(device);
                return Math.max(0, gpuTotal - free);
            } catch (RuntimeException | LinkageError e) {
                gpuOk = false;
                LOG.warn("GPU memory not readable: {}", e.toString());
                return null;
            }
        }
    }
}
