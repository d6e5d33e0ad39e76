package org.finsent.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finsent.core.io.SafeTensors;
import org.finsent.core.io.StateDict;
import org.finsent.core.io.TensorData;
import org.finsent.core.model.Batch;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.CrossEntropyLoss;
import org.finsent.core.model.Gpt2ForSequenceClassification;
import org.finsent.core.model.Gpt2Model;
import org.finsent.core.model.Pretrained;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.core.nn.Parameter;
import org.finsent.core.oracle.Golden;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * LoRA, prefix and prompt tuning against PEFT 0.21 + Transformers 5.17 (golden/peft_*, FP64, dropout 0): the base
 * model from {@code model.safetensors}, the adapter from PEFT's {@code save_pretrained} folder through our loaders
 * (as a user loading a Python-trained adapter), then hidden states, logits, loss and the gradient of every trainable
 * parameter; our trainable-parameter count against PEFT's; and our writers' files against PEFT's (names, shapes,
 * dtypes, values, the config fields PEFT reads), reloaded to the golden logits.
 *
 * <p>PEFT saves prefix tuning in inference form ({@code prompt_embeddings} = the prefix encoder's output), so the
 * projection MLP's weights are not in the adapter: {@code trainable.safetensors} beside it (the PEFT model's
 * trainable parameters, dumped by golden/hf_golden_trainable.py from the same run) supplies them for the gradient
 * check of the embedding and the MLP.
 */
class GoldenPeftTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where our saved adapters are left (build output), e.g. to load them with Python PEFT by hand. */
    static final Path SAVED = Path.of("target", "golden-saved");

    record Case(String name, Path dir, Batch batch, int[] labels, StateDict io, StateDict grads, JsonNode config) {
        static Case of(String name) throws IOException {
            Path dir = Golden.dir(name);
            StateDict io = Golden.read(dir.resolve("io.safetensors"));
            int[][] ids = Golden.intRows(io.require("input_ids"));
            Batch batch = new Batch(ids, new int[ids.length][ids[0].length], Golden.intRows(io.require("attention_mask")));
            return new Case(name, dir, batch, Golden.ints(io.require("labels")), io, Golden.read(dir.resolve("grads.safetensors")),
                    JSON.readTree(dir.resolve("adapter/adapter_config.json").toFile()));
        }

        Path adapter() {
            return dir.resolve("adapter");
        }

        String type() {
            return config.get("peft_type").asText();
        }

        SequenceClassifier base() throws IOException {
            return name.endsWith("bert") ? Pretrained.bert(dir, 3, DataType.DOUBLE, 0) : Pretrained.gpt2(dir, 3, DataType.DOUBLE, 0);
        }

        /** Our loader for this adapter type, as a user would call it. */
        PeftModel load(Path adapterDir) throws IOException {
            return type().equals("LORA") ? LoraFiles.load(base(), adapterDir) : PromptLearningFiles.load(base(), adapterDir);
        }

        /** The method with PEFT's settings from the golden adapter_config.json, for training from scratch. */
        PeftMethod method() throws IOException {
            return switch (type()) {
                case "LORA" -> LoraFiles.readConfig(adapter());
                case "PREFIX_TUNING" -> new PrefixTuningConfig(config.get("num_virtual_tokens").asInt(),
                        config.get("prefix_projection").asBoolean(), config.get("encoder_hidden_size").asInt(), 0);
                case "PROMPT_TUNING" -> PromptTuningConfig.random(config.get("num_virtual_tokens").asInt());
                default -> throw new IllegalStateException(type());
            };
        }

        /** PEFT's parameter name (adapter "default", modules_to_save wrapper) as ours. */
        String ourName(String peft) {
            String n = peft.replace(".modules_to_save.default.", ".").replace(".default.", ".");
            n = n.startsWith("base_model.model.") ? n.substring("base_model.model.".length())
                    : n.startsWith("base_model.") ? n.substring("base_model.".length()) : n;
            return type().equals("PREFIX_TUNING") ? n.replace("prompt_encoder.", "prefix_encoder.") : n;
        }

        /** Golden gradients under our names, optionally only those whose (our) name passes {@code keep}. */
        StateDict gradsByOurName(java.util.function.Predicate<String> keep) {
            StateDict sd = new StateDict();
            for (TensorData t : grads) if (keep.test(ourName(t.name()))) sd.put(t.withName(ourName(t.name())));
            return sd;
        }
    }

    /**
     * Forward as Transformers + PEFT: GPT-2 without position_ids numbers the tokens P..P+T−1 after a prefix of P
     * (padding included); FinSent's default numbering agrees on the real tokens of these right-padded batches, and
     * the logits are checked both ways.
     */
    static INDArray forward(Case c, PeftModel m) {
        INDArray ours = m.forward(c.batch);
        Golden.assertClose(c.name + " logits (FinSent positions)", c.io.require("logits"), ours, Golden.FP64);
        if (!(m.base() instanceof Gpt2ForSequenceClassification g)) return ours;
        int p = m.prefixEncoder() == null ? 0 : m.prefixEncoder().length();
        int[][] pos = Gpt2Model.sequentialPositions(c.batch.batchSize(), c.batch.seqLen());
        for (int[] row : pos) for (int i = 0; i < row.length; i++) row[i] += p;
        return g.forward(c.batch, pos);
    }

    /** Forward (hidden states, logits, loss against the golden) and backward; returns the loss. */
    static double forwardBackward(Case c, PeftModel m) {
        m.train(true); // every dropout is 0, as in the golden run
        INDArray logits = forward(c, m);
        List<INDArray> hidden = m.base() instanceof BertForSequenceClassification b ? b.bert.hiddenStates()
                : ((Gpt2ForSequenceClassification) m.base()).transformer.hiddenStates();
        boolean skipped = m.base() instanceof BertForSequenceClassification b && (b.bert.skipsPadding() || b.bert.poolerRowsOnly());
        boolean lastOnly = m.base() instanceof Gpt2ForSequenceClassification g && g.transformer.lastTokenOnly();
        for (int i = 0; i < hidden.size(); i++) {
            if (lastOnly && i == hidden.size() - 1) {
                assertLastTokenRowsClose(c, hidden.get(i), i);
            } else if (skipped && i > 0) {
                assertRealRowsClose(c, m, i, hidden.get(i));
            } else {
                Golden.assertClose(c.name + " hidden_states." + i, c.io.require("hidden_states." + i), hidden.get(i), Golden.FP64);
            }
        }
        Golden.assertClose(c.name + " logits", c.io.require("logits"), logits, Golden.FP64);
        CrossEntropyLoss.Result loss = new CrossEntropyLoss(null).compute(logits, c.labels);
        double want = c.io.require("loss").toDoubles()[0];
        assertEquals(want, loss.loss(), Golden.FP64 * want, c.name + " loss");
        m.zeroGrad();
        m.backward(loss.dLogits());
        return loss.loss();
    }

    /**
     * With padding skipped and the last layer on [CLS] rows only (BERT's defaults): each row a layer ran (real
     * tokens, virtual tokens, each example's first row; in the last layer the first rows alone) equals PEFT's; the
     * others are zero.
     */
    static void assertRealRowsClose(Case c, PeftModel m, int layer, INDArray h) {
        var bert = ((BertForSequenceClassification) m.base()).bert;
        boolean skip = bert.skipsPadding(), firstOnly = bert.poolerRowsOnly() && layer == bert.layers.size();
        int p = m.promptEmbedding() == null ? 0 : m.promptEmbedding().length(), t = p + c.batch.seqLen();
        int skipped = assertComputedRowsClose(c, layer, h, row -> {
            int n = row / t, j = row % t;
            return j == 0 || !firstOnly && (!skip || j < p || c.batch.attentionMask()[n][j - p] != 0);
        });
        assertTrue(skipped > 0, c.name + ": the golden batch must hold padding");
    }

    /** GPT-2's last block with {@code lastTokenOnly} (the classifier's default): each example's last real token's row equals PEFT's, the others are zero. */
    static void assertLastTokenRowsClose(Case c, INDArray h, int layer) {
        Set<Integer> read = new TreeSet<>();
        for (int r : Gpt2Model.lastTokenRows(c.batch.attentionMask())) read.add(r);
        assertTrue(assertComputedRowsClose(c, layer, h, read::contains) > 0, c.name + ": the last block must have skipped rows");
    }

    /** Rows of hidden state {@code layer} that {@code computed} accepts equal PEFT's; the others are zero. Returns how many were zero. */
    static int assertComputedRowsClose(Case c, int layer, INDArray h, java.util.function.IntPredicate computed) {
        double[] g = c.io.require("hidden_states." + layer).toDoubles();
        int width = (int) h.columns(), zero = 0;
        for (int row = 0; row < h.rows(); row++) {
            if (computed.test(row)) {
                Golden.assertClose(c.name + " hidden_states." + layer + " row " + row,
                        java.util.Arrays.copyOfRange(g, row * width, (row + 1) * width), h.getRow(row).dup().data().asDouble(), Golden.FP64);
            } else {
                assertEquals(0.0, h.getRow(row).norm1Number().doubleValue(), c.name + " row not computed " + row);
                zero++;
            }
        }
        return zero;
    }

    @ParameterizedTest
    @ValueSource(strings = {"peft_lora_bert", "peft_lora_gpt2", "peft_prefix_bert", "peft_prefix_gpt2", "peft_prompt_bert"})
    void pythonAdapterReproducesLogitsLossAndGradients(String name) throws IOException {
        Case c = Case.of(name);
        PeftModel m = c.load(c.adapter());
        if (m.base() instanceof BertForSequenceClassification b) {
            // first every row, as Transformers + PEFT compute it; then (below) the defaults: padding rows skipped
            // and the last layer on [CLS] rows only
            assertTrue(b.bert.skipsPadding(), "BERT classifiers skip padding by default");
            assertTrue(b.bert.poolerRowsOnly(), "BERT classifiers compute the last layer's [CLS] rows only by default");
            b.bert.skipPadding(false);
            b.bert.poolerRowsOnly(false);
            forwardBackward(c, m);
            b.bert.skipPadding(true);
            b.bert.poolerRowsOnly(true);
        }
        if (m.base() instanceof Gpt2ForSequenceClassification g) {
            // first every row; then (below) the default: the last block on each example's last token only
            assertTrue(g.transformer.lastTokenOnly(), "GPT-2 classifiers compute the last block's last tokens only by default");
            g.transformer.lastTokenOnly(false);
            forwardBackward(c, m);
            g.transformer.lastTokenOnly(true);
        }
        forwardBackward(c, m);
        if (!c.type().equals("PREFIX_TUNING")) {
            double err = Golden.assertGradients(name, m.parameters(), c.gradsByOurName(n -> true), Golden.FP64);
            System.out.printf("golden %s: loaded adapter, every trainable gradient within %.2e of scale%n", name, err);
            return;
        }
        // inference form: the loaded prefix rows are the MLP's output, so their gradient dOut [P, L·2·C] sums over
        // the rows to PEFT's gradient of the output bias transform.2.bias; the head compares directly
        Set<String> head = new TreeSet<>();
        for (Parameter p : m.headParameters()) head.add(p.name());
        List<Parameter> trainable = m.trainableParameters().stream().filter(p -> head.contains(p.name())).toList();
        Golden.assertGradients(name + " head", trainable, c.gradsByOurName(head::contains), Golden.FP64);
        INDArray dOut = m.prefixEncoder().embedding.grad();
        Golden.assertClose(name + " Σ_p d prompt_embeddings = d transform.2.bias", c.grads.require("prompt_encoder.default.transform.2.bias"),
                dOut.sum(0), Golden.FP64);

        // a loaded prefix saves again as it came (inference form, the same rows bit for bit) and reloads to the logits
        Path out = SAVED.resolve(name + "-inference");
        PromptLearningFiles.save(m, out, null);
        StateDict want = SafeTensors.read(c.adapter().resolve(LoraFiles.WEIGHTS)), ours = SafeTensors.read(out.resolve(LoraFiles.WEIGHTS));
        assertEquals(new TreeSet<>(want.names()), new TreeSet<>(ours.names()), "tensor names");
        for (TensorData t : want) assertTrue(t.contentEquals(ours.require(t.name())), name + " resaved " + t.name());
        Golden.assertClose(name + " resaved logits", c.io.require("logits"), c.load(out).forward(c.batch), Golden.FP64);
    }

    /**
     * Prefix tuning as trained (projection MLP), with the golden run's encoder weights: every gradient (embedding,
     * both MLP layers, the head), and our saved inference-form {@code prompt_embeddings} equals PEFT's.
     */
    @ParameterizedTest
    @ValueSource(strings = {"peft_prefix_bert", "peft_prefix_gpt2"})
    void prefixProjectionGradientsMatchPeft(String name) throws IOException {
        Case c = Case.of(name);
        PeftModel m = trainingForm(c);
        forwardBackward(c, m);
        double err = Golden.assertGradients(name, m.parameters(), c.gradsByOurName(n -> true), Golden.FP64);
        System.out.printf("golden %s: projection MLP, every trainable gradient within %.2e of scale%n", name, err);
    }

    /** PEFT's model for the case built our way (Peft.apply with the golden config), holding the golden run's trainable values. */
    static PeftModel trainingForm(Case c) throws IOException {
        PeftModel m = Peft.apply(c.base(), c.method());
        Path file = c.dir.resolve("trainable.safetensors");
        assertTrue(Files.isRegularFile(file), "missing " + file + " (golden/hf_golden_trainable.py writes it)");
        StateDict values = SafeTensors.read(file);
        var params = m.namedParameters();
        assertEquals(new TreeSet<>(m.trainableParameters().stream().map(Parameter::name).toList()),
                new TreeSet<>(values.names().stream().map(c::ourName).toList()), "trainable parameters (ours vs PEFT's)");
        for (TensorData t : values) params.get(c.ourName(t.name())).assign(t.toINDArray(DataType.DOUBLE));
        return m;
    }

    /**
     * {@code print_trainable_parameters}: our count for the golden config equals PEFT's, and the trainable parameters
     * are PEFT's ones by name ({@link #trainingForm} checks the names against trainable.safetensors).
     */
    @ParameterizedTest
    @ValueSource(strings = {"peft_lora_bert", "peft_lora_gpt2", "peft_prefix_bert", "peft_prefix_gpt2", "peft_prompt_bert"})
    void trainableParameterCountIsPefts(String name) throws IOException {
        Case c = Case.of(name);
        long want = JSON.readTree(Golden.root().resolve("manifest.json").toFile()).get("cases").get(name).get("trainable").asLong();
        assertEquals(want, trainingForm(c).trainableCount(), name);
    }

    /**
     * Our writers produce what PEFT wrote: the same tensor names, shapes and dtypes (values equal: copies exactly,
     * the prefix MLP's output to FP64), an adapter_config.json agreeing on every field PEFT's loader uses, and files
     * that reload to the golden logits. The saved folders stay in target/golden-saved for the check with PEFT itself.
     */
    @ParameterizedTest
    @ValueSource(strings = {"peft_lora_bert", "peft_lora_gpt2", "peft_prefix_bert", "peft_prefix_gpt2", "peft_prompt_bert"})
    void ourFilesAreWhatPeftWrites(String name) throws IOException {
        Case c = Case.of(name);
        Path out = SAVED.resolve(name);
        PeftModel m;
        switch (c.type()) {
            case "LORA" -> {
                m = c.load(c.adapter());
                LoraFiles.save(m, LoraFiles.readConfig(c.adapter()), out, null);
            }
            case "PREFIX_TUNING" -> {
                m = trainingForm(c);
                PromptLearningFiles.save(m, out, null);
            }
            default -> {
                m = c.load(c.adapter());
                PromptLearningFiles.save(m, out, null);
            }
        }
        StateDict want = SafeTensors.read(c.adapter().resolve(LoraFiles.WEIGHTS)), ours = SafeTensors.read(out.resolve(LoraFiles.WEIGHTS));
        assertEquals(new TreeSet<>(want.names()), new TreeSet<>(ours.names()), "tensor names");
        assertEquals(SafeTensors.readMetadata(c.adapter().resolve(LoraFiles.WEIGHTS)), SafeTensors.readMetadata(out.resolve(LoraFiles.WEIGHTS)), "metadata");
        for (TensorData t : want) {
            TensorData u = ours.require(t.name());
            assertEquals(t.dtype(), u.dtype(), t.name());
            assertArrayEquals(t.shape(), u.shape(), t.name());
            if (t.name().equals(PromptLearningFiles.KEY) && c.type().equals("PREFIX_TUNING")) {
                Golden.assertClose(name + " " + t.name(), t.toDoubles(), u.toDoubles(), Golden.FP64);
            } else {
                assertTrue(t.contentEquals(u), name + " " + t.name() + ": a copy of the loaded tensor must be bit-identical");
            }
        }
        JsonNode ourCfg = JSON.readTree(out.resolve(LoraFiles.CONFIG).toFile());
        List<String> fields = c.type().equals("LORA")
                ? List.of("peft_type", "task_type", "r", "lora_alpha", "lora_dropout", "bias", "target_modules", "fan_in_fan_out",
                "modules_to_save", "use_rslora", "use_dora", "init_lora_weights", "inference_mode", "layers_to_transform", "layers_pattern")
                : List.of("peft_type", "task_type", "num_virtual_tokens", "token_dim", "num_layers", "num_attention_heads",
                "num_transformer_submodules", "modules_to_save", "inference_mode", "encoder_hidden_size", "prefix_projection",
                "prompt_tuning_init");
        for (String f : fields) {
            JsonNode g = c.config.get(f);
            if (g == null) continue; // a field of the other prompt-learning type
            JsonNode o = ourCfg.get(f);
            assertNotNull(o, name + ": adapter_config.json lacks " + f);
            assertTrue(sameJson(g, o), name + " " + f + ": PEFT wrote " + g + ", we wrote " + o);
        }
        PeftModel reloaded = c.load(out);
        Golden.assertClose(name + " reloaded logits", c.io.require("logits"), reloaded.forward(c.batch), Golden.FP64);
    }

    /** JSON equality as PEFT sees it: numbers by value (8 == 8.0), lists as sets (PEFT stores them as sets). */
    static boolean sameJson(JsonNode a, JsonNode b) {
        if (a.isNumber() && b.isNumber()) return a.asDouble() == b.asDouble();
        if (a.isArray() && b.isArray()) {
            Set<String> x = new TreeSet<>(), y = new TreeSet<>();
            a.forEach(n -> x.add(n.asText()));
            b.forEach(n -> y.add(n.asText()));
            return x.equals(y);
        }
        return a.equals(b);
    }
}
