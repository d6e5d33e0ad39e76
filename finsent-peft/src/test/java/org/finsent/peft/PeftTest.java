package org.finsent.peft;

import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Gpt2Config;
import org.finsent.core.model.Gpt2ForSequenceClassification;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.core.nn.GradCheck;
import org.finsent.core.nn.Parameter;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PeftTest {
    static final DataType D = DataType.DOUBLE;

    static void trainLoraB(PeftModel m, long seed) {
        long s = seed;
        for (LoraLinear l : m.loraModules()) GradCheck.randomize(l.loraB.value(), 0, 0.3, s++);
    }

    // ---------------------------------------------------------------- gradient checks (FP64)

    /** LoRA's backwardAdd (its dx summed into a residual gradient) = that gradient + backward's dx; same A and B gradients. */
    @Test
    void loraBackwardAddEqualsBackwardPlusTheSum() {
        for (double dropout : new double[]{0, 0.3}) {
            INDArray x = org.nd4j.linalg.factory.Nd4j.rand(D, 40, 5), dy = org.nd4j.linalg.factory.Nd4j.rand(D, 40, 7);
            INDArray sum = org.nd4j.linalg.factory.Nd4j.rand(D, 40, 5);
            INDArray[] dx = new INDArray[2], dA = new INDArray[2], dB = new INDArray[2];
            for (int way = 0; way < 2; way++) {
                var base = org.finsent.core.nn.Linear.linear("m", 5, 7, true, D);
                GradCheck.randomize(base.weight.value(), 0, 0.5, 1);
                var lora = new LoraLinear("m", base, new LoraConfig(2, 4, dropout, LoraConfig.Bias.NONE, List.of("m"), null, false, 3));
                GradCheck.randomize(lora.loraB.value(), 0, 0.3, 2);
                lora.train(true);                                  // same seed both ways: the same dropout mask
                lora.forward(x);
                dx[way] = way == 0 ? sum.add(lora.backward(dy)) : lora.backwardAdd(dy, sum.dup());
                dA[way] = lora.loraA.grad().dup();
                dB[way] = lora.loraB.grad().dup();
            }
            assertTrue(dx[0].equalsWithEps(dx[1], 1e-13), "dx, dropout " + dropout);
            assertTrue(dA[0].equalsWithEps(dA[1], 0) && dB[0].equalsWithEps(dB[1], 0), "A and B gradients, dropout " + dropout);
        }
    }

    @Test
    void loraGradientsOnBertAndGpt2() {
        var bert = Peft.apply(Tiny.bert(D, 1), LoraConfig.bert(4, 8).withTargets("query", "key", "value", "output.dense"));
        trainLoraB(bert, 10); // B = 0 would make dA identically zero
        assertTrue(Tiny.gradCheckTrainable(bert, Tiny.batch(0)) > 16);
        var gpt2 = Peft.apply(Tiny.gpt2(D, 2), LoraConfig.gpt2(4, 16));
        trainLoraB(gpt2, 20);
        assertTrue(Tiny.gradCheckTrainable(gpt2, Tiny.batch(39)) > 4);
    }

    @Test
    void adapterGradientsOnBertAndGpt2() {
        var cfg = new AdapterConfig("pfeiffer", 4, 3);
        assertTrue(Tiny.gradCheckTrainable(Peft.apply(Tiny.bert(D, 3), cfg), Tiny.batch(0)) >= 8 + 2);
        assertTrue(Tiny.gradCheckTrainable(Peft.apply(Tiny.gpt2(D, 4), cfg), Tiny.batch(39)) >= 8 + 1);
    }

    @Test
    void adapterWithTrainableLayerNormAccumulatesBothUses() {
        // full fine-tuning + adapter: the BERT output LayerNorm is used twice and trains
        var m = Peft.apply(Tiny.bert(D, 5), new AdapterConfig("a", 4, 5), PeftMethod.Baseline.FULL_FINE_TUNING);
        assertTrue(m.namedParameters().get("bert.encoder.layer.0.output.LayerNorm.weight").trainable());
        Tiny.gradCheckTrainable(m, Tiny.batch(0));
    }

    @Test
    void composedLoraAndAdapter() {
        for (SequenceClassifier base : List.of(Tiny.bert(D, 6), Tiny.gpt2(D, 7))) {
            boolean isBert = base instanceof BertForSequenceClassification;
            var lora = isBert ? LoraConfig.bert(2, 4) : LoraConfig.gpt2(2, 4);
            var m = Peft.apply(base, lora, new AdapterConfig("a", 4, 8));
            trainLoraB(m, 30);
            Tiny.gradCheckTrainable(m, Tiny.batch(isBert ? 0 : 39));
        }
    }

    // ---------------------------------------------------------------- LoRA semantics

    @Test
    void loraAtInitLeavesLogitsBitIdentical() {
        for (SequenceClassifier base : List.of(Tiny.bert(DataType.FLOAT, 8), Tiny.gpt2(DataType.FLOAT, 9))) {
            boolean isBert = base instanceof BertForSequenceClassification;
            var batch = Tiny.batch(isBert ? 0 : 39);
            INDArray before = base.forward(batch);
            var m = Peft.apply(base, isBert ? LoraConfig.bert(8, 8) : LoraConfig.gpt2(8, 8));
            assertTrue(before.equals(m.forward(batch)), "B = 0: output unchanged, bit for bit");
        }
    }

    @Test
    void mergeMatchesUnmergedAndUnmergeRestoresTheBase() {
        for (SequenceClassifier base : List.of(Tiny.bert(DataType.FLOAT, 10), Tiny.gpt2(DataType.FLOAT, 11))) {
            boolean isBert = base instanceof BertForSequenceClassification;
            var batch = Tiny.batch(isBert ? 0 : 39);
            var m = Peft.apply(base, isBert ? LoraConfig.bert(4, 8).withTargets("query", "value", "intermediate.dense")
                    : LoraConfig.gpt2(4, 8).withTargets("c_attn", "mlp.c_proj"));
            trainLoraB(m, 40);
            Map<String, INDArray> baseWeights = new HashMap<>();
            for (LoraLinear l : m.loraModules()) baseWeights.put(l.module(), l.base.weight.value().dup());
            INDArray unmerged = m.forward(batch);
            m.merge();
            INDArray merged = m.forward(batch);
            double diff = unmerged.sub(merged).amaxNumber().doubleValue();
            assertTrue(diff <= 1e-5, "merged vs unmerged logits differ by " + diff);
            m.unmerge();
            for (LoraLinear l : m.loraModules()) {
                double d = l.base.weight.value().sub(baseWeights.get(l.module())).amaxNumber().doubleValue();
                assertTrue(d <= 1e-6, l.module() + ": unmerge left a difference of " + d);
            }
            assertThrows(IllegalStateException.class, () -> {
                m.merge();
                m.backward(m.forward(batch));
            });
            m.unmerge();
        }
    }

    @Test
    void frozenBaseWeightsStayBitIdenticalThroughTraining() {
        var m = Peft.apply(Tiny.bert(DataType.FLOAT, 12), LoraConfig.bert(4, 8), new AdapterConfig("a", 4, 12));
        Map<String, INDArray> frozen = new HashMap<>();
        for (Parameter p : m.parameters()) {
            if (!p.trainable()) {
                assertNull(p.grad(), p.name() + " has no gradient buffer");
                frozen.put(p.name(), p.value().dup());
            }
        }
        var batch = Tiny.batch(0);
        for (int step = 0; step < 3; step++) {                        // plain SGD on what the optimizer sees
            m.zeroGrad();
            m.backward(Tiny.LOSS.compute(m.forward(batch), Tiny.LABELS).dLogits());
            for (Parameter p : m.trainableParameters()) p.value().subi(p.grad().mul(0.1));
        }
        for (Parameter p : m.parameters()) {
            if (frozen.containsKey(p.name())) assertTrue(frozen.get(p.name()).equals(p.value()), p.name() + " changed");
        }
        assertTrue(m.trainableParameters().stream().allMatch(p -> p.name().contains("lora_") || p.name().contains(".adapters.")
                || p.name().startsWith("classifier.")), "only LoRA, adapter and head train");
    }

    @Test
    void loraBiasOptions() {
        var all = Peft.apply(Tiny.bert(DataType.FLOAT, 13), LoraConfig.bert(2, 2).withBias(LoraConfig.Bias.ALL));
        assertTrue(all.namedParameters().get("bert.encoder.layer.1.intermediate.dense.bias").trainable());
        var only = Peft.apply(Tiny.bert(DataType.FLOAT, 13), LoraConfig.bert(2, 2).withBias(LoraConfig.Bias.LORA_ONLY));
        assertTrue(only.namedParameters().get("bert.encoder.layer.1.attention.self.query.bias").trainable());
        assertTrue(!only.namedParameters().get("bert.encoder.layer.1.attention.self.key.bias").trainable());
        var none = Peft.apply(Tiny.bert(DataType.FLOAT, 13), LoraConfig.bert(2, 2));
        assertTrue(!none.namedParameters().get("bert.encoder.layer.1.attention.self.query.bias").trainable());
    }

    @Test
    void targetsMatchBySuffixOrRegexAndMustMatchSomething() {
        var cfg = LoraConfig.bert(2, 2);
        assertTrue(cfg.targets("bert.encoder.layer.0.attention.self.query"));
        assertTrue(!cfg.targets("bert.encoder.layer.0.attention.self.query_x"));
        var regex = new LoraConfig(2, 2, 0, LoraConfig.Bias.NONE, List.of(), ".*layer\\.1\\..*value", false, 1);
        var m = Peft.apply(Tiny.bert(DataType.FLOAT, 14), regex);
        assertEquals(List.of("bert.encoder.layer.1.attention.self.value"), m.loraModules().stream().map(LoraLinear::module).toList());
        var e = assertThrows(IllegalArgumentException.class, () -> Peft.apply(Tiny.bert(DataType.FLOAT, 15), cfg.withTargets("nope")));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
    }

    @Test
    void baselines() {
        var head = Peft.apply(Tiny.bert(DataType.FLOAT, 16), PeftMethod.Baseline.HEAD_ONLY);
        assertEquals(List.of("classifier.weight", "classifier.bias"), head.trainableParameters().stream().map(Parameter::name).toList());
        var full = Peft.apply(Tiny.bert(DataType.FLOAT, 16), PeftMethod.Baseline.FULL_FINE_TUNING);
        assertEquals(full.parameters().size(), full.trainableParameters().size());
    }

    // ---------------------------------------------------------------- parameter arithmetic on the real architectures

    @Test
    void trainableCountsOnBertBaseAndGpt2Small() {
        var bert = new BertForSequenceClassification(BertConfig.base(3), DataType.FLOAT, 1);
        var lora = Peft.apply(bert, LoraConfig.bert(8, 8).withTargets("query", "key", "value"));
        assertEquals(442_368 + 2_307, lora.trainableCount());
        System.out.println("BERT-Base LoRA r=8 q,k,v: " + lora.trainableParametersReport());

        var bert2 = new BertForSequenceClassification(BertConfig.base(3), DataType.FLOAT, 1);
        var adapter = Peft.apply(bert2, AdapterConfig.pfeiffer("pfeiffer"));
        assertEquals(894_528 + 2_307, adapter.trainableCount());
        System.out.println("BERT-Base Pfeiffer rf=16: " + adapter.trainableParametersReport());

        var gpt2 = new Gpt2ForSequenceClassification(Gpt2Config.small(3), DataType.FLOAT, 1);
        var glora = Peft.apply(gpt2, LoraConfig.gpt2(32, 64));
        assertEquals(1_179_648 + 3 * 768, glora.trainableCount());
        System.out.println("GPT-2 LoRA r=32 c_attn: " + glora.trainableParametersReport());
        assertTrue(glora.trainableParametersReport().startsWith("trainable params: 1,181,952 || all params: "));
    }
}
