package org.finsent.serve;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 2, unit = TimeUnit.MINUTES)
class MicroBatcherTest {

    /** A batch function that records batch sizes and holds its first call until released. */
    private static final class Recorder {
        final List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch firstCall = new CountDownLatch(1), release = new CountDownLatch(1);

        List<String> apply(List<Integer> in) {
            sizes.add(in.size());
            firstCall.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            List<String> out = new ArrayList<>();
            for (int x : in) out.add("r" + x);
            return out;
        }
    }

    /** Items that queued while the model was busy run together, never more than maxBatch at a time, in order. */
    @Test
    void queuedItemsRunTogetherUpToMaxBatch() throws Exception {
        Recorder r = new Recorder();
        try (var b = new MicroBatcher<Integer, String>(r::apply, 4, 0, 100)) {
            CompletableFuture<String> first = b.submit(0);
            assertTrue(r.firstCall.await(30, TimeUnit.SECONDS));
            List<CompletableFuture<String>> rest = new ArrayList<>();
            for (int i = 1; i <= 10; i++) rest.add(b.submit(i));
            r.release.countDown();
            assertEquals("r0", first.get(30, TimeUnit.SECONDS));
            for (int i = 1; i <= 10; i++) assertEquals("r" + i, rest.get(i - 1).get(30, TimeUnit.SECONDS));
            assertEquals(List.of(1, 4, 4, 2), r.sizes);
            assertEquals(new MicroBatcher.Stats(4, 11, 0), b.stats());
            assertEquals(11 / 4.0, b.stats().meanBatchSize());
        }
    }

    /** With a wait, items arriving one after another within it share a forward pass. */
    @Test
    void theWaitCollectsItemsThatArriveShortlyAfter() throws Exception {
        List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
        try (var b = new MicroBatcher<Integer, Integer>(in -> {
            sizes.add(in.size());
            return in;
        }, 8, 2_000, 100)) {
            CompletableFuture<Integer> a = b.submit(1);
            Thread.sleep(50); // well inside the 2 s wait
            CompletableFuture<Integer> c = b.submit(2);
            assertEquals(1, a.get(30, TimeUnit.SECONDS));
            assertEquals(2, c.get(30, TimeUnit.SECONDS));
            assertEquals(List.of(2), sizes);
        }
    }

    @Test
    void aFailingBatchFailsEachOfItsItemsAndTheNextBatchRuns() throws Exception {
        try (var b = new MicroBatcher<Integer, Integer>(in -> {
            if (in.contains(13)) throw new IllegalArgumentException("unlucky");
            return in;
        }, 1, 0, 10)) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> b.submit(13).get(30, TimeUnit.SECONDS));
            assertInstanceOf(IllegalArgumentException.class, e.getCause());
            assertEquals(7, b.submit(7).get(30, TimeUnit.SECONDS));
        }
        try (var b = new MicroBatcher<Integer, Integer>(in -> List.of(), 4, 0, 10)) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> b.submit(1).get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("0 outputs for 1 inputs"), e.getCause().getMessage());
        }
    }

    /**
     * A batch holding one item the function refuses: that item fails with its own exception, the others in the same
     * batch get their outputs (the batch is run again item by item).
     */
    @Test
    void oneBadItemFailsOnlyItsOwnFuture() throws Exception {
        List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.CountDownLatch gateRunning = new java.util.concurrent.CountDownLatch(1), release = new java.util.concurrent.CountDownLatch(1);
        try (var b = new MicroBatcher<Integer, Integer>(in -> {
            sizes.add(in.size());
            if (in.contains(0)) { // the gate: holds the worker until the four items below are all queued
                gateRunning.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (in.contains(13)) throw new IllegalArgumentException("13 is too long");
            List<Integer> out = new ArrayList<>();
            for (int x : in) out.add(x * 10);
            return out;
        }, 8, 0, 100)) {
            CompletableFuture<Integer> gate = b.submit(0);
            assertTrue(gateRunning.await(30, TimeUnit.SECONDS));
            List<CompletableFuture<Integer>> f = b.submitAll(List.of(1, 13, 3, 4));
            release.countDown();
            assertEquals(0, gate.get(30, TimeUnit.SECONDS));
            assertEquals(10, f.get(0).get(30, TimeUnit.SECONDS));
            ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(1).get(30, TimeUnit.SECONDS));
            assertInstanceOf(IllegalArgumentException.class, e.getCause());
            assertEquals("13 is too long", e.getCause().getMessage());
            assertEquals(30, f.get(2).get(30, TimeUnit.SECONDS));
            assertEquals(40, f.get(3).get(30, TimeUnit.SECONDS));
            assertEquals(List.of(1, 4, 1, 1, 1, 1), sizes, "the gate, one batch of 4, then each item alone");
        }
    }

    /** close() runs what is queued, then refuses new items; a full queue refuses a whole multi-item submit. */
    @Test
    void closeDrainsTheQueueAndAFullQueueRefuses() throws Exception {
        Recorder r = new Recorder();
        var b = new MicroBatcher<Integer, String>(r::apply, 2, 0, 3);
        CompletableFuture<String> first = b.submit(0);
        assertTrue(r.firstCall.await(30, TimeUnit.SECONDS));
        List<CompletableFuture<String>> queued = b.submitAll(List.of(1, 2));
        RejectedExecutionException full = assertThrows(RejectedExecutionException.class, () -> b.submitAll(List.of(3, 4)));
        assertTrue(full.getMessage().contains("busy: 2 items queued (capacity 3)"), full.getMessage());
        assertEquals(2, b.stats().queued(), "the refused submit queued nothing");
        CompletableFuture<Void> closing = CompletableFuture.runAsync(b::close);
        r.release.countDown();
        closing.get(30, TimeUnit.SECONDS);
        assertEquals("r0", first.get());
        assertEquals("r1", queued.get(0).get());
        assertEquals("r2", queued.get(1).get());
        assertThrows(RejectedExecutionException.class, () -> b.submit(5));
        assertThrows(IllegalArgumentException.class, () -> new MicroBatcher<Integer, Integer>(in -> in, 0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new MicroBatcher<Integer, Integer>(in -> in, 1, -1, 1));
    }
}
