package org.finsent.core.nn;

import org.finsent.core.model.Batch;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Gpt2Config;
import org.finsent.core.model.Gpt2ForSequenceClassification;
import org.finsent.core.model.SequenceClassifier;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Layers write GEMM results into uninitialised buffers (a GEMM with beta = 0 never reads its output). Inside a
 * reused workspace such a buffer holds whatever the previous step left there, so this test fills the workspace with
 * NaN before each step and requires logits and every gradient to be bit-identical to a step outside any workspace.
 */
class WorkspaceGarbageTest {
    static final WorkspaceConfiguration WS = WorkspaceConfiguration.builder().initialSize(0).overallocationLimit(0.2)
            .policyAllocation(AllocationPolicy.OVERALLOCATE).policyLearning(LearningPolicy.FIRST_LOOP)
            .policyReset(ResetPolicy.BLOCK_LEFT).policySpill(SpillPolicy.REALLOCATE).build();

    @Test
    void bertStepIgnoresWorkspaceGarbage() {
        check(() -> new BertForSequenceClassification(new BertConfig(64, 16, 2, 4, 32, 16, 2, 1e-12, "gelu", 0.0, 0.0, 3), DataType.DOUBLE, 5));
    }

    @Test
    void gpt2StepIgnoresWorkspaceGarbage() {
        check(() -> new Gpt2ForSequenceClassification(new Gpt2Config(64, 16, 16, 2, 4, 32, "gelu_new", 0.0, 0.0, 0.0, 1e-5, 3, 0), DataType.DOUBLE, 5));
    }

    interface Make {
        SequenceClassifier make();
    }

    static void check(Make make) {
        Batch batch = new Batch(new int[][]{{5, 9, 13, 2}, {7, 3, 0, 0}}, new int[2][4], new int[][]{{1, 1, 1, 1}, {1, 1, 0, 0}});
        INDArray dLogits = Nd4j.create(new double[][]{{0.3, -0.2, 0.1}, {-0.5, 0.25, 0.4}});
        List<double[]> clean = step(make.make(), batch, dLogits, false);
        List<double[]> dirty = step(make.make(), batch, dLogits, true);
        for (int i = 0; i < clean.size(); i++) assertArrayEquals(clean.get(i), dirty.get(i), 0.0, "output " + i);
    }

    static List<double[]> step(SequenceClassifier m, Batch batch, INDArray dLogits, boolean inWorkspace) {
        m.train(true);
        List<double[]> out = new ArrayList<>();
        for (int rep = 0; rep < 3; rep++) {   // the workspace learns its size in the first loop, then is reused
            m.zeroGrad();
            out.clear();
            MemoryWorkspace ws = inWorkspace ? Nd4j.getWorkspaceManager().getAndActivateWorkspace(WS, "garbage-test") : null;
            try {
                if (ws != null && rep > 0) {
                    Nd4j.createUninitialized(DataType.DOUBLE, ws.getCurrentSize() / 8 - 16).assign(Double.NaN);
                    ws.notifyScopeLeft();
                    ws.notifyScopeEntered();
                }
                out.add(m.forward(batch).dup().data().asDouble());
                m.backward(dLogits);
            } finally {
                if (ws != null) ws.close();
            }
        }
        for (Parameter p : m.parameters()) out.add(p.grad().dup().data().asDouble());
        if (inWorkspace) Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
        return out;
    }
}
