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

    /** With the fixed wait, items arriving one after another within it share a forward pass. */
    @Test
    void theFixedWaitCollectsItemsThatArriveShortlyAfter() throws Exception {
        List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
        try (var b = new MicroBatcher<Integer, Integer>(in -> {
            sizes.add(in.size());
            return in;
        }, 8, 2_000, MicroBatcher.Wait.FIXED, 100)) {
            CompletableFuture<Integer> a = b.submit(1);
            Thread.sleep(50); // well inside the 2 s wait
            CompletableFuture<Integer> c = b.submit(2);
            assertEquals(1, a.get(30, TimeUnit.SECONDS));
            assertEquals(2, c.get(30, TimeUnit.SECONDS));
            assertEquals(List.of(2), sizes);
        }
    }

    /**
     * Adaptive: a lone client, whether it sends one item or several at once, is never held for the wait (here 10 s;
     * the fixed policy holds every batch that is not full for all of it). Elapsed times are only bounded from above
     * by the wait itself, so a slow machine cannot make this fail.
     */
    @Test
    void aLoneClientIsNotHeldForTheWait() throws Exception {
        List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
        try (var b = new MicroBatcher<Integer, Integer>(in -> {
            sizes.add(in.size());
            return in;
        }, 8, 10_000, MicroBatcher.Wait.ADAPTIVE, 100)) {
            for (List<Integer> request : List.of(List.of(1), List.of(2), List.of(3, 4, 5, 6, 7, 8), List.of(9, 10), List.of(11))) {
                long t0 = System.nanoTime();
                List<CompletableFuture<Integer>> f = b.submitAll(request);
                for (int i = 0; i < request.size(); i++) assertEquals(request.get(i), f.get(i).get(60, TimeUnit.SECONDS));
                double ms = (System.nanoTime() - t0) / 1e6;
                assertTrue(ms < 10_000, "a lone submission of " + request.size() + " was held " + ms + " ms");
            }
            assertEquals(List.of(1, 1, 6, 2, 1), sizes, "each submission ran as soon as it came, on its own");
        }
    }

    /**
     * Adaptive, the two-cohort trap: items that queued behind a batch (three here) wait for that batch's client to come
     * back with its next item, so all four clients share the next forward pass; a zero wait would run the three
     * alone and then the returning one alone, and keep alternating. Once all expected clients are in, the batch runs
     * without waiting out the rest of the (10 s) wait.
     */
    @Test
    void itemsQueuedBehindABatchWaitForItsClientToComeBack() throws Exception {
        Recorder r = new Recorder();
        try (var b = new MicroBatcher<Integer, String>(r::apply, 8, 10_000, MicroBatcher.Wait.ADAPTIVE, 100)) {
            CompletableFuture<String> first = b.submit(0); // no history: runs at once, alone
            assertTrue(r.firstCall.await(30, TimeUnit.SECONDS));
            List<CompletableFuture<String>> others = new ArrayList<>();
            for (int i = 1; i <= 3; i++) others.add(b.submit(i));
            r.release.countDown();
            assertEquals("r0", first.get(30, TimeUnit.SECONDS));
            long t0 = System.nanoTime();
            CompletableFuture<String> back = b.submit(4); // the first client's next request
            for (int i = 1; i <= 3; i++) assertEquals("r" + i, others.get(i - 1).get(60, TimeUnit.SECONDS));
            assertEquals("r4", back.get(60, TimeUnit.SECONDS));
            double ms = (System.nanoTime() - t0) / 1e6;
            assertEquals(List.of(1, 4), r.sizes);
            assertTrue(ms < 10_000, "the full batch was held " + ms + " ms");
        }
    }

    /** The adaptive decision on a made-up clock: when it waits, until when, and that it stops after the load drops. */
    @Test
    void theAdaptivePolicyWaitsOnlyForClientsItHasJustAnswered() {
        long ms = 1_000_000, wait = 5 * ms;
        var p = new MicroBatcher.Policy(MicroBatcher.Wait.ADAPTIVE, wait);
        assertEquals(MicroBatcher.Policy.NO_WAIT, p.deadline(1, 0), "no history: run at once");

        p.ran(16, 0); // 16 clients in one batch, nothing queued behind it
        p.answered(100 * ms);
        assertEquals(16, p.expected());
        assertEquals(105 * ms, p.deadline(1, 101 * ms), "wait for the others, up to the wait after they were answered");
        assertEquals(105 * ms, p.deadline(15, 104 * ms));
        assertEquals(MicroBatcher.Policy.NO_WAIT, p.deadline(16, 101 * ms), "all back: go");
        assertEquals(MicroBatcher.Policy.NO_WAIT, p.deadline(1, 105 * ms), "they did not come back in time");
        assertEquals(MicroBatcher.Policy.NO_WAIT, p.deadline(1, 900 * ms), "after a pause nobody is expected");

        p.ran(1, 0); // the load dropped: that batch found one, and nothing queued behind it
        p.answered(200 * ms);
        assertEquals(1, p.expected());
        assertEquals(MicroBatcher.Policy.NO_WAIT, p.deadline(1, 200 * ms + 1), "a lone client runs at once again");

        p.ran(1, 3); // three queued behind a batch of one: four clients
        p.answered(300 * ms);
        assertEquals(305 * ms, p.deadline(3, 300 * ms + 1));
        assertEquals(MicroBatcher.Policy.NO_WAIT, p.deadline(4, 300 * ms + 1));

        var fixed = new MicroBatcher.Policy(MicroBatcher.Wait.FIXED, wait);
        assertEquals(7 * ms, fixed.deadline(1, 2 * ms), "fixed: always the whole wait after the first item");
        fixed.ran(1, 0);
        fixed.answered(3 * ms);
        assertEquals(9 * ms, fixed.deadline(100, 4 * ms));
        assertEquals(MicroBatcher.Policy.NO_WAIT, new MicroBatcher.Policy(MicroBatcher.Wait.FIXED, 0).deadline(1, 0));
        assertEquals(MicroBatcher.Wait.ADAPTIVE, MicroBatcher.Wait.parse(" Adaptive"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MicroBatcher.Wait.parse("often"));
        assertEquals("batch wait policy must be adaptive or fixed: often", e.getMessage());
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
