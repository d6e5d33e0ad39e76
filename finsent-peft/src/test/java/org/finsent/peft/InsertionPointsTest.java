package org.finsent.peft;

import org.finsent.core.model.Batch;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.core.nn.InsertionPoints;
import org.finsent.core.nn.Parameter;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PEFT reaches a model through its {@link InsertionPoints} alone: a classifier whose class PEFT has never heard of
 * (here one that hides a BERT or GPT-2 behind the {@link SequenceClassifier} interface, as a third architecture
 * would look to it) gets every method, with the same modules, names and outputs as the model it hides.
 */
class InsertionPointsTest {

    /** A classifier PEFT knows only through {@link SequenceClassifier}. */
    private record Opaque(SequenceClassifier inner) implements SequenceClassifier {
        @Override
        public INDArray forward(Batch batch) {
            return inner.forward(batch);
        }

        @Override
        public void backward(INDArray dLogits) {
            inner.backward(dLogits);
        }

        @Override
        public void train(boolean on) {
            inner.train(on);
        }

        @Override
        public List<Parameter> parameters() {
            return inner.parameters();
        }

        @Override
        public InsertionPoints insertionPoints() {
            return inner.insertionPoints();
        }

        @Override
        public List<Parameter> headParameters() {
            return inner.headParameters();
        }

        @Override
        public int hiddenSize() {
            return inner.hiddenSize();
        }

        @Override
        public int numLayers() {
            return inner.numLayers();
        }

        @Override
        public int numHeads() {
            return inner.numHeads();
        }
    }

    @Test
    void everyMethodReachesAModelThroughItsInsertionPointsAlone() {
        for (boolean gpt2 : new boolean[]{false, true}) {
            LoraConfig lora = gpt2 ? LoraConfig.gpt2(2, 4) : LoraConfig.bert(2, 4);
            List<PeftMethod[]> cases = List.of(new PeftMethod[]{lora}, new PeftMethod[]{new AdapterConfig("pfeiffer", 4, 42)},
                    new PeftMethod[]{new PrefixTuningConfig(3, true, 8, 42)}, new PeftMethod[]{PromptTuningConfig.random(2)},
                    new PeftMethod[]{lora, new AdapterConfig("pfeiffer", 4, 42), new PrefixTuningConfig(3, false, 0, 42)});
            for (PeftMethod[] methods : cases) {
                String what = (gpt2 ? "GPT-2 " : "BERT ") + java.util.Arrays.toString(methods);
                PeftModel known = Peft.apply(gpt2 ? Tiny.gpt2(DataType.DOUBLE, 5) : Tiny.bert(DataType.DOUBLE, 5), methods);
                PeftModel opaque = Peft.apply(new Opaque(gpt2 ? Tiny.gpt2(DataType.DOUBLE, 5) : Tiny.bert(DataType.DOUBLE, 5)), methods);
                assertEquals(names(known), names(opaque), what + ": the same trainable parameters");
                assertTrue(names(opaque).size() > opaque.headParameters().size(), what + ": the method's own modules train");
                Batch batch = Tiny.batch(gpt2 ? 39 : 0);
                assertArrayEquals(known.forward(batch).data().asDouble(), opaque.forward(batch).data().asDouble(), what);
            }
        }
    }

    @Test
    void aComposedModelBehindTheInterfaceHasCorrectGradients() {
        for (boolean gpt2 : new boolean[]{false, true}) {
            PeftModel m = Peft.apply(new Opaque(gpt2 ? Tiny.gpt2(DataType.DOUBLE, 3) : Tiny.bert(DataType.DOUBLE, 3)),
                    (gpt2 ? LoraConfig.gpt2(2, 4) : LoraConfig.bert(2, 4)).withSeed(7), new AdapterConfig("pfeiffer", 4, 42),
                    new PrefixTuningConfig(2, true, 6, 42));
            for (LoraLinear l : m.loraModules()) l.loraB.value().assign(0.1);   // B = 0 at init hides A's gradient
            assertTrue(Tiny.gradCheckTrainable(m, Tiny.batch(gpt2 ? 39 : 0)) > 0);
        }
    }

    private static List<String> names(PeftModel m) {
        return m.trainableParameters().stream().map(Parameter::name).toList();
    }
}
