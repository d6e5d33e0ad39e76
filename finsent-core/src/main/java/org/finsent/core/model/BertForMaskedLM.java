package org.finsent.core.model;

import org.finsent.core.nn.Gelu;
import org.finsent.core.nn.Gemm;
import org.finsent.core.nn.Init;
import org.finsent.core.nn.InsertionPoints;
import org.finsent.core.nn.LayerNorm;
import org.finsent.core.nn.Linear;
import org.finsent.core.nn.Parameter;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code transformers.BertForMaskedLM}: the encoder (no pooler) and {@code BertOnlyMLMHead}:
 * <pre>
 *   t      = LN(act(dense(h)))                      cls.predictions.transform.{dense, LayerNorm}
 *   logits = t·Wᵀ + b                               W = bert.embeddings.word_embeddings.weight (tied), b = cls.predictions.bias
 * </pre>
 * Loss: mean cross-entropy over the positions whose label is not -100 ({@link LanguageModelLoss}).
 *
 * <p>{@link #forward(Batch)} computes logits for every position (Transformers' output). Training uses
 * {@link #forward(Batch, int[])} with the labelled rows only: the head is position-wise, so those rows' logits are
 * the same numbers (tested), and a BERT-Base vocabulary of 30,522 makes the full {@code [B·T, V]} product the
 * largest of the step. The decoder's gradient {@code dLᵀ·t} is added into the word embeddings' gradient, next to
 * the lookup's scatter-add; there is no separate decoder weight ({@code cls.predictions.decoder.weight} and
 * {@code .bias} are aliases in Transformers, see {@link Pretrained#save(BertForMaskedLM, java.nio.file.Path)}).
 */
public final class BertForMaskedLM {
    public static final String DENSE = "cls.predictions.transform.dense", LAYER_NORM = "cls.predictions.transform.LayerNorm",
            BIAS = "cls.predictions.bias";
    public final BertModel bert;
    public final Linear transform;
    public final LayerNorm transformLn;
    public final Parameter bias; // [V]
    private final Gelu act;
    // forward state for backward
    private INDArray dense, saved, t;
    private int[] rows;
    private long allRows;

    public BertForMaskedLM(BertConfig c, DataType type, long seed) {
        this(c, type, seed, false);
    }

    /**
     * @param keepPooler carry a pooler along, frozen and unused (Transformers' BertForMaskedLM has none): a
     *                   checkpoint's pretrained pooler then reaches the saved directory, so a classifier fine-tuned
     *                   from it starts from the pretrained pooler as it would from the original checkpoint
     */
    public BertForMaskedLM(BertConfig c, DataType type, long seed, boolean keepPooler) {
        bert = new BertModel(c, "bert.", keepPooler, type, seed);
        if (bert.pooler != null) for (Parameter p : bert.pooler.parameters()) p.setTrainable(false);
        bert.skipPadding(true); // padding rows are never labelled: the layers need not compute them
        act = Gelu.fromConfig(c.hiddenAct());
        transform = Linear.linear(DENSE, c.hiddenSize(), c.hiddenSize(), true, type);
        transformLn = new LayerNorm(LAYER_NORM, c.hiddenSize(), c.layerNormEps(), type);
        bias = new Parameter(BIAS, Nd4j.zeros(type, c.vocabSize()));
        Init.initialize(transform.parameters(), seed + 2, 0); // LayerNorm ones/zeros and a zero bias, as Transformers
    }

    /** Logits {@code [B·T, V]} for every position (padding rows included; run with skipPadding off for their HF values). */
    public INDArray forward(Batch batch) {
        return forward(batch, null);
    }

    /**
     * Logits {@code [rows.length, V]} for the rows {@code rows} of the flattened batch ({@code n·T + i}); null: all.
     */
    public INDArray forward(Batch batch, int[] rows) {
        INDArray h = bert.forward(batch);
        allRows = h.rows();
        this.rows = rows;
        if (rows != null) h = Nd4j.pullRows(h, 1, rows);
        dense = transform.forward(h);
        Gelu.Output a = act.forwardSaving(dense);
        saved = a.saved();
        t = transformLn.forward(a.y());
        Parameter w = bert.word.weight;
        INDArray logits = Nd4j.createUninitialized(t.dataType(), t.rows(), w.value().rows());
        Gemm.gemmAddRow(t, w.value(), bias.value(), logits, false, true);         // t·Wᵀ + b
        return logits;
    }

    /** Backward from {@code dLogits} of the last forward; accumulates every trainable parameter's gradient. */
    public void backward(INDArray dLogits) {
        Parameter w = bert.word.weight;
        if (w.grad() != null) Gemm.gemm(dLogits, t, w.grad(), true, false, 1.0, 1.0);  // tied decoder: dW += dLᵀ·t
        if (bias.grad() != null) bias.grad().addi(dLogits.sum(0));
        INDArray dt = Nd4j.createUninitialized(t.dataType(), t.rows(), t.columns());
        Gemm.gemm(dLogits, w.value(), dt, false, false, 1.0, 0.0);                      // dt = dL·W
        INDArray dh = transform.backward(act.backward(transformLn.backward(dt), dense, saved));
        if (rows != null) {
            INDArray full = Nd4j.zeros(dh.dataType(), allRows, dh.columns());
            Nd4j.exec(org.nd4j.linalg.api.ops.DynamicCustomOp.builder("scatter_add")        // distinct rows: a plain scatter
                    .addInputs(full, Nd4j.createFromArray(rows).castTo(DataType.INT64), dh).addOutputs(full)
                    .addBooleanArguments(true, false).build());
            dh = full;
        }
        bert.backward(dh);
    }

    /**
     * One training step's loss on {@code batch} with {@code labels [B][T]} (-100 where not predicted): forward on the
     * labelled rows, mean cross-entropy, and (when {@code backward}) the gradients of it scaled by {@code scale}
     * (an accumulation group's share). Returns the unscaled loss and the number of labelled positions.
     */
    public LanguageModelLoss.Result loss(Batch batch, int[][] labels, boolean backward, double scale) {
        int tl = batch.seqLen();
        List<Integer> r = new ArrayList<>();
        List<Integer> y = new ArrayList<>();
        for (int n = 0; n < labels.length; n++) {
            for (int i = 0; i < tl; i++) {
                if (labels[n][i] != LanguageModelLoss.IGNORE) {
                    r.add(n * tl + i);
                    y.add(labels[n][i]);
                }
            }
        }
        if (r.isEmpty()) return new LanguageModelLoss.Result(0, null, 0);
        INDArray logits = forward(batch, r.stream().mapToInt(Integer::intValue).toArray());
        LanguageModelLoss.Result res = LanguageModelLoss.rows(logits, y.stream().mapToInt(Integer::intValue).toArray());
        if (backward) backward(scale == 1 ? res.dLogits() : res.dLogits().muli(scale));
        return res;
    }

    public void train(boolean on) {
        bert.train(on);
    }

    /** Where PEFT methods attach (the encoder's projections, as for the classifier). */
    public InsertionPoints insertionPoints() {
        return bert.insertionPoints("BertForMaskedLM");
    }

    /** The MLM head's own parameters (the decoder weight is the word embedding, in {@link BertModel#parameters()}). */
    public List<Parameter> headParameters() {
        List<Parameter> p = new ArrayList<>(transform.parameters());
        p.addAll(transformLn.parameters());
        p.add(bias);
        return p;
    }

    public List<Parameter> parameters() {
        List<Parameter> p = new ArrayList<>(bert.parameters());
        p.addAll(headParameters());
        return p;
    }

    /** Parameters by Hugging Face name. */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (Parameter p : parameters()) m.put(p.name(), p);
        return m;
    }

    public void zeroGrad() {
        for (Parameter p : parameters()) p.zeroGrad();
    }
}
