package org.finsent.core.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The JVM-wide cap (a Spark task's cores) bounds the host threads after ND4J has loaded. */
class HostThreadsTest {
    @Test
    void limitCapsTheThreadsAHostLoopUses() {
        int uncapped = Math.min(Nd4j.getEnvironment().maxThreads(), Runtime.getRuntime().availableProcessors());
        try {
            HostThreads.limit(1);
            assertEquals(1, HostThreads.threads());
            Set<Thread> ran = ConcurrentHashMap.newKeySet();
            HostThreads.parallelFor(64, i -> ran.add(Thread.currentThread()));
            assertEquals(Set.of(Thread.currentThread()), ran, "capped at 1: every index on the caller");
            HostThreads.limit(Integer.MAX_VALUE);
            assertEquals(Math.max(1, uncapped), HostThreads.threads());
            assertThrows(IllegalArgumentException.class, () -> HostThreads.limit(0));
        } finally {
            HostThreads.limit(Integer.MAX_VALUE);
        }
    }
}
