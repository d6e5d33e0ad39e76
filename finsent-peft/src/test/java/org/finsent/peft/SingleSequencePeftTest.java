package org.finsent.peft;

import org.finsent.core.model.Batch;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.nn.FastPaths;
import org.finsent.core.nn.GradCheck;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * BERT's single-sequence eval path ({@code BertModel.forward} with one unpadded FP32 sequence) under PEFT: LoRA
 * (unmerged and merged) runs it and gives the bits of the layers' path, here the training forward without dropout;
 * an adapter on the layers' output, prefix and prompt tuning keep the layers' path.
 */
class SingleSequencePeftTest {
    private static final Batch ONE = new Batch(new int[][]{{5, 17, 3, 22, 9, 31, 2}}, new int[][]{{0, 0, 0, 1, 1, 1, 1}},
            new int[][]{{1, 1, 1, 1, 1, 1, 1}});

    private static BertForSequenceClassification bert() {
        return Tiny.bert(DataType.FLOAT, 7);
    }

    private static double[] logits(PeftModel m, boolean training) {
        m.train(training);
        return m.forward(ONE).dup().data().asDouble();
    }

    private static boolean ran(PeftModel m) {
        return ((BertForSequenceClassification) m.base()).bert.singleSequenceRan();
    }

    @Test
    void loraRunsItWithTheSameBits() {
        Assumptions.assumeTrue(FastPaths.enabled(), "the single-sequence path needs the CPU fast paths");
        for (boolean merged : new boolean[]{false, true}) {
            PeftModel m = Peft.apply(bert(), LoraConfig.bert(4, 8).withTargets("query", "key", "value", "dense").withDropout(0));
            long s = 11;
            for (LoraLinear l : m.loraModules()) GradCheck.randomize(l.loraB.value(), 0, 0.3, s++);
            if (merged) m.loraModules().forEach(LoraLinear::merge);
            double[] reference = logits(m, true);
            assertFalse(ran(m));
            double[] eval = logits(m, false);
            assertTrue(ran(m), "merged=" + merged + ": the single-sequence path ran");
            assertArrayEquals(reference, eval, 0.0, "merged=" + merged + " logits");
        }
    }

    @Test
    void loraDropoutInTrainingAndOtherMethodsKeepTheLayersPath() {
        Assumptions.assumeTrue(FastPaths.enabled(), "the single-sequence path needs the CPU fast paths");
        PeftModel lora = Peft.apply(bert(), LoraConfig.bert(4, 8));
        logits(lora, false);
        assertTrue(ran(lora), "the positive control");

        PeftModel adapter = Peft.apply(bert(), new AdapterConfig("a", 4, 5));
        logits(adapter, false);
        assertFalse(ran(adapter), "Pfeiffer adapter");
        PeftModel prefix = Peft.apply(bert(), new PrefixTuningConfig(3, false, 0, 5));
        logits(prefix, false);
        assertFalse(ran(prefix), "prefix tuning");
        PeftModel prompt = Peft.apply(bert(), PromptTuningConfig.random(3));
        logits(prompt, false);
        assertFalse(ran(prompt), "prompt tuning");
    }
}
