package org.finsent.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ResourceMonitorTest {

    private static final long MB = 1L << 20;

    /** Busy-waits until the sampler has taken at least {@code n} more ticks. */
    private static void awaitTicks(ResourceMonitor m, int n) throws InterruptedException {
        int target = m.summary().sampleCount() + n;
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (m.summary().sampleCount() < target) {
            assertTrue(System.nanoTime() < deadline, "sampler made no progress");
            Thread.sleep(5);
        }
    }

    /** A sample taken once ND4J's off-heap counter has stopped shrinking after a GC (at most ~10 s). */
    private static ResourceMonitor.Sample quiescent(ResourceMonitor m) throws InterruptedException {
        long last = Long.MIN_VALUE;
        for (int i = 0; i < 100; i++) {
            System.gc();
            Thread.sleep(100);
            long now = m.sampleNow().nd4jOffHeapBytes();
            if (now == last) break;
            last = now;
        }
        return m.sampleNow();
    }

    @Test
    void seesHeapRssAndNd4jOffHeapGrowAndShrink() throws Exception {
        Nd4j.create(DataType.FLOAT, 1).close();                       // backend loaded before the baseline
        try (ResourceMonitor m = ResourceMonitor.start(50)) {
            // ND4J frees collected arrays asynchronously: arrays left by earlier tests in this JVM must be gone before
            // the baseline, or their release shrinks the counter inside the measured window
            ResourceMonitor.Sample before = quiescent(m);

            byte[] big = new byte[(int) (256 * MB)];
            Arrays.fill(big, (byte) 1);                              // touch every page: resident, not just reserved
            INDArray arr = Nd4j.create(DataType.FLOAT, 32 * MB);     // 128 MiB off-heap
            arr.addi(1.0);
            awaitTicks(m, 3);                                        // the sampler thread must see it too
            ResourceMonitor.Sample during = m.sampleNow();

            System.out.printf("MEM: heap +%d MiB, RSS +%d MiB, ND4J +%d bytes%n",
                    (during.heapUsedBytes() - before.heapUsedBytes()) / MB,
                    (during.processRssBytes() - before.processRssBytes()) / MB,
                    during.nd4jOffHeapBytes() - before.nd4jOffHeapBytes());
            assertTrue(during.heapUsedBytes() - before.heapUsedBytes() >= 240 * MB,
                    "heap grew by " + (during.heapUsedBytes() - before.heapUsedBytes()) / MB + " MiB");
            assertTrue(during.processRssBytes() - before.processRssBytes() >= 200 * MB,
                    "RSS grew by " + (during.processRssBytes() - before.processRssBytes()) / MB + " MiB");
            long offHeapGrowth = during.nd4jOffHeapBytes() - before.nd4jOffHeapBytes();
            assertTrue(offHeapGrowth >= 127 * MB && offHeapGrowth < 130 * MB,
                    "ND4J off-heap grew by " + offHeapGrowth + " bytes, expected 128 MiB (less whatever the GC freed meanwhile)");

            // the background ticks (not only sampleNow) reached these values: the max covers the allocation
            ResourceMonitor.Summary s = m.summary();
            assertTrue(s.heapUsedBytes().max() >= during.heapUsedBytes() - 16 * MB);
            assertTrue(s.nd4jOffHeapBytes().max() >= 128 * MB);
            assertTrue(m.samples().stream().anyMatch(x -> x.nd4jOffHeapBytes() >= 128 * MB && x.tMs() < during.tMs()),
                    "a background tick saw the ND4J array");
            assertTrue(big[12345] == 1);

            arr.close();                                             // off-heap is freed deterministically
            ResourceMonitor.Sample after = m.sampleNow();
            assertTrue(after.nd4jOffHeapBytes() <= before.nd4jOffHeapBytes() + MB,
                    "ND4J off-heap back to " + after.nd4jOffHeapBytes() + " from " + before.nd4jOffHeapBytes());
        }
    }

    @Test
    void seesCpuBusyWhileALoopSpinsAndAgreesWithTheJvmsOwnCpuClock() throws Exception {
        var jvmOs = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (ResourceMonitor m = ResourceMonitor.start(100)) {
            int cores = m.summary().logicalCores();
            // Single ticks are quantised to the kernel's 10 ms CPU clock, so compare window averages of the
            // background ticks (100 ms each), not one sample.
            long idleCpu0 = jvmOs.getProcessCpuTime(), idleWall0 = System.nanoTime();
            long idleFrom = m.sampleNow().tMs();
            Thread.sleep(700);
            long idleTo = m.sampleNow().tMs();
            long idleCpu1 = jvmOs.getProcessCpuTime(), idleWall1 = System.nanoTime();

            long cpu0 = jvmOs.getProcessCpuTime(), wall0 = System.nanoTime();
            long busyFrom = m.sampleNow().tMs();
            long sink = 0;
            long end = System.nanoTime() + 1_200_000_000L;           // one thread spins 1.2 s
            while (System.nanoTime() < end) sink += sink * 31 + 7;
            long busyTo = m.sampleNow().tMs();
            long cpu1 = jvmOs.getProcessCpuTime(), wall1 = System.nanoTime();
            assertTrue(sink != 42);

            // the independent measure: the JVM's own process CPU clock over the same window, same normalisation
            double jvmPercent = 100.0 * (cpu1 - cpu0) / ((wall1 - wall0) * (double) cores);
            double jvmIdlePercent = 100.0 * (idleCpu1 - idleCpu0) / ((idleWall1 - idleWall0) * (double) cores);
            List<ResourceMonitor.Sample> all = m.samples();
            double idle = window(all, idleFrom, idleTo, ResourceMonitor.Sample::processCpuPercent);
            double busy = window(all, busyFrom, busyTo, ResourceMonitor.Sample::processCpuPercent);
            double busySystem = window(all, busyFrom, busyTo, ResourceMonitor.Sample::systemCpuPercent);
            String msg = "cores=" + cores + " idle=" + idle + " busy=" + busy + " busySystem=" + busySystem
                    + " jvm=" + jvmPercent + " jvmIdle=" + jvmIdlePercent;
            System.out.println("CPU: " + msg);
            // one spinning thread is 100/cores % at most; demand a quarter of it even on a contended machine
            assertTrue(busy >= 0.25 * 100.0 / cores, msg);
            // "idle" is the test thread sleeping; JIT, GC or OpenMP spin-waits may still run, so the monitor must
            // agree with the JVM's clock in both windows, and the spinning window must read higher
            assertTrue(busy > idle, msg);
            assertTrue(Math.abs(busy - jvmPercent) <= 5.0, msg);
            assertTrue(Math.abs(idle - jvmIdlePercent) <= 5.0, msg);
            assertTrue(busySystem >= busy * 0.5, msg);               // the machine's load includes ours
            assertTrue(m.summary().processCpuPercent().max() >= 0.25 * 100.0 / cores, msg);
        }
    }

    /** Time-weighted average of a metric over the ticks in (from, to]; each tick covers the time since the last. */
    private static double window(List<ResourceMonitor.Sample> samples, long from, long to,
                                 java.util.function.ToDoubleFunction<ResourceMonitor.Sample> f) {
        double sum = 0, weight = 0;
        for (int i = 1; i < samples.size(); i++) {
            ResourceMonitor.Sample x = samples.get(i);
            if (x.tMs() <= from || x.tMs() > to) continue;
            double w = x.tMs() - samples.get(i - 1).tMs();
            sum += f.applyAsDouble(x) * w;
            weight += w;
        }
        assertTrue(weight > 0, "no ticks in the window");
        return sum / weight;
    }

    @Test
    void valuesAreWithinSaneBoundsAndGpuIsNullOnCpu() throws Exception {
        long maxHeap = Runtime.getRuntime().maxMemory();
        try (ResourceMonitor m = ResourceMonitor.start(20)) {
            awaitTicks(m, 5);
            ResourceMonitor.Summary s = m.summary();
            long total = s.systemMemoryTotalBytes();
            assertTrue(total > 256 * MB && total < (1L << 50), "total memory " + total);
            assertTrue(s.logicalCores() >= 1 && s.logicalCores() <= 4096);
            for (ResourceMonitor.Sample x : m.samples()) {
                assertTrue(x.processCpuPercent() >= 0 && x.processCpuPercent() <= 100, x.toString());
                assertTrue(x.systemCpuPercent() >= 0 && x.systemCpuPercent() <= 100, x.toString());
                assertTrue(x.systemMemoryUsedPercent() > 0 && x.systemMemoryUsedPercent() <= 100, x.toString());
                assertTrue(x.processRssBytes() > 16 * MB && x.processRssBytes() < total, x.toString());
                assertTrue(x.heapUsedBytes() > 0 && x.heapUsedBytes() <= maxHeap, x.toString());
                assertNotNull(x.nd4jOffHeapBytes());
                assertTrue(x.nd4jOffHeapBytes() >= 0 && x.nd4jOffHeapBytes() < total, x.toString());
                assertTrue(x.tMs() >= 0 && x.tMs() < 60_000);
            }
            List<Long> t = m.samples().stream().map(ResourceMonitor.Sample::tMs).toList();
            for (int i = 1; i < t.size(); i++) assertTrue(t.get(i) >= t.get(i - 1), "timeline ordered");
            assertTrue(s.processRssBytes().avg() <= s.processRssBytes().max());
            assertTrue(s.wallTimeSeconds() > 0.05 && s.wallTimeSeconds() < 60);
            if (Nd4j.getEnvironment().isCPU()) {
                assertEquals("CPU", s.backend());
                assertNull(s.gpuMemoryUsedBytes(), "no GPU on the CPU backend: null, not 0");
                assertNull(s.gpuMemoryTotalBytes());
                assertTrue(m.samples().stream().allMatch(x -> x.gpuMemoryUsedBytes() == null));
            } else {
                assertEquals("CUDA", s.backend());
                assertTrue(s.gpuMemoryTotalBytes() > 0 && s.gpuMemoryUsedBytes().max() <= s.gpuMemoryTotalBytes());
            }
        }
    }

    @Test
    void closeStopsTheThreadAndFreezesTheSummary() throws Exception {
        ResourceMonitor m = ResourceMonitor.start(10);
        awaitTicks(m, 2);
        assertTrue(m.isRunning());
        Thread sampler = Thread.getAllStackTraces().keySet().stream()
                .filter(th -> th.getName().equals("finsent-resource-monitor") && th.isAlive()).findFirst().orElseThrow();
        assertTrue(sampler.isDaemon(), "must not keep the JVM alive");
        m.close();
        assertFalse(m.isRunning());
        ResourceMonitor.Summary s1 = m.summary();
        Thread.sleep(100);                                           // ten intervals
        ResourceMonitor.Summary s2 = m.summary();
        assertEquals(s1, s2, "no ticks and no wall time after close()");
        m.close();                                                   // idempotent
        assertThrows(IllegalStateException.class, m::sampleNow);
    }

    @Test
    void timelineIsThinnedButTheSummaryCountsEveryTick() {
        try (ResourceMonitor m = ResourceMonitor.start(ResourceMonitor.Options.defaults()
                .withIntervalMs(60_000).withMaxTimelineSamples(8).withSampleNd4j(false))) {
            for (int i = 0; i < 21; i++) m.sampleNow();
            assertEquals(21, m.summary().sampleCount());
            List<ResourceMonitor.Sample> kept = m.samples();
            assertTrue(kept.size() < 8 && kept.size() >= 4, "kept " + kept.size());
            assertNull(m.summary().nd4jOffHeapBytes(), "ND4J sampling off");
            assertNull(m.summary().backend());
        }
    }

    @Test
    void jsonRoundTripsAndUsesTheDocumentedFieldNames(@TempDir Path dir) throws Exception {
        ResourceMonitor.Report written;
        Path file;
        try (ResourceMonitor m = ResourceMonitor.start(20)) {
            awaitTicks(m, 3);
            m.close();
            written = m.report();
            file = m.writeJson(dir.resolve("run/resources.json"));
            assertEquals(dir.resolve("run/resources.json"), file);
            assertEquals(dir.resolve("resources.json"), m.writeJson(dir), "a directory gets resources.json");
        }
        assertEquals(written, ResourceMonitor.readJson(file));

        JsonNode root = new ObjectMapper().readTree(file.toFile());
        JsonNode s = root.get("summary");
        for (String f : List.of("startedAt", "wallTimeSeconds", "sampleCount", "intervalMs", "backend", "logicalCores",
                "systemMemoryTotalBytes", "gpuMemoryTotalBytes", "processCpuPercent", "systemCpuPercent",
                "processRssBytes", "heapUsedBytes", "nd4jOffHeapBytes", "systemMemoryUsedPercent",
                "gpuMemoryUsedBytes")) {
            assertTrue(s.has(f), "summary." + f);
        }
        assertTrue(s.get("processRssBytes").get("avg").isNumber() && s.get("processRssBytes").get("max").isNumber());
        assertEquals(written.samples().size(), root.get("samples").size());
        JsonNode x = root.get("samples").get(0);
        for (String f : List.of("tMs", "processCpuPercent", "systemCpuPercent", "processRssBytes", "heapUsedBytes",
                "nd4jOffHeapBytes", "systemMemoryUsedPercent", "gpuMemoryUsedBytes")) {
            assertTrue(x.has(f), "samples[0]." + f);
        }
        assertTrue(Files.readString(file).contains("\"gpuMemoryUsedBytes\" : null") || !Nd4j.getEnvironment().isCPU(),
                "nulls are written, not omitted");
    }
}
