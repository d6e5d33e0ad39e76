package org.finsent.train;

import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where the temporaries of a training step live, and a guard against unbounded native memory.
 *
 * <p><b>The problem.</b> ND4J frees an array's off-heap memory only after the garbage collector has collected the
 * array's Java object. A step allocates hundreds of megabytes of activations and temporaries off-heap but almost
 * nothing on the Java heap, so the collector may not run for dozens of steps. Measured on all-MiniLM-L6-v2 with
 * LoRA, batch 16 × ~50 tokens: +500 MB resident per step, 20 GB after 60 steps, then the OOM killer.
 *
 * <p><b>The fix: a workspace per step</b> ({@link #step(String)}). Every array created inside the scope is carved
 * from one block that is reset when the scope closes and reused by the next step (ND4J learns its size in the
 * first step and grows it when a longer batch needs more). Same run, measured: the process stays at 2.5 GB and a
 * step is about twice as fast (no malloc/free of large blocks). The rule that makes this safe: nothing created
 * inside the scope may be used after it closes. Inside go forward, loss, backward and clipping, which write only
 * into buffers allocated outside (parameters, gradients) and leave activations that the next forward replaces;
 * outside stay the optimizer step (AdamW creates its state lazily on the first step) and every copy that must
 * survive (best weights, checkpoints).
 *
 * <p><b>The backstop: {@link #check()}.</b> Whatever is still allocated outside a workspace (small arrays, the
 * evaluation's outputs, a {@link Predictor} serving one text at a time) is collected by running
 * {@code System.gc()} when the resident size exceeds its value at construction plus a headroom (2 GiB by default,
 * system property {@code finsent.memory.headroomMb}) and has grown by a quarter of the headroom since the last
 * collection (glibc keeps freed blocks for reuse, so the resident size need not fall after a collection).
 * JavaCPP's own {@code -Dorg.bytedeco.javacpp.maxphysicalbytes} works too, but defaults to 4 × the heap limit and
 * must be set on the command line before ND4J loads.
 */
public final class StepMemory {
    private static final WorkspaceConfiguration STEP = WorkspaceConfiguration.builder()
            .initialSize(0).overallocationLimit(0.2)
            .policyAllocation(AllocationPolicy.OVERALLOCATE)
            .policyLearning(LearningPolicy.FIRST_LOOP)
            .policyReset(ResetPolicy.BLOCK_LEFT)
            .policySpill(SpillPolicy.REALLOCATE)
            .build();

    private final long headroom;
    private final long threshold;
    private long atLastGc;

    public StepMemory() {
        this.headroom = Math.max(64, Long.getLong("finsent.memory.headroomMb", 2048)) << 20;
        this.threshold = Pointer.physicalBytes() + headroom;
    }

    /** Opens the calling thread's workspace {@code id} for one step; close it (try-with-resources) after the step. */
    public static MemoryWorkspace step(String id) {
        return Nd4j.getWorkspaceManager().getAndActivateWorkspace(STEP, id);
    }

    /** Frees the calling thread's workspace {@code id} (after the loop; it holds a step's worth of memory). */
    public static void release(String id) {
        if (Nd4j.getWorkspaceManager().checkIfWorkspaceExists(id)) {
            Nd4j.getWorkspaceManager().destroyWorkspace(Nd4j.getWorkspaceManager().getWorkspaceForCurrentThread(STEP, id));
        }
    }

    /** Runs a garbage collection when the process's resident size is above the threshold and still growing. */
    public synchronized void check() {
        long rss = Pointer.physicalBytes();
        if (rss > threshold && rss > atLastGc + headroom / 4) {
            System.gc();
            atLastGc = rss;
        }
    }
}
