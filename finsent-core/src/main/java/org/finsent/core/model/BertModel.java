package org.finsent.core.model;

import org.finsent.core.nn.Attention;
import org.finsent.core.nn.Dropout;
import org.finsent.core.nn.Embedding;
import org.finsent.core.nn.InsertionPoints;
import org.finsent.core.nn.KeyValuePrefix;
import org.finsent.core.nn.LayerNorm;
import org.finsent.core.nn.Linear;
import org.finsent.core.nn.Parameter;
import org.finsent.core.nn.ProjectionSlot;
import org.finsent.core.nn.RowPacking;
import org.finsent.core.nn.VirtualTokens;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * BERT encoder ({@code transformers.BertModel}):
 * <pre>
 *   h0 = Drop(LN(word[ids] + position[0..T) + tokenType[types]))
 *   hl = BertLayer_l(h(l-1), mask)                 for l = 1..L (post-LN)
 *   pooled = tanh(Wp·hL[:, 0])                     pooler (optional)
 * </pre>
 * Activations are rows {@code [B·T, C]}. Parameter names are Hugging Face's, under {@code prefix}
 * ({@code ""} for a bare BertModel checkpoint, {@code "bert."} inside BertForSequenceClassification).
 */
public final class BertModel {
    public final BertConfig config;
    public final DataType type;
    public final Embedding word, position, tokenType;
    public final LayerNorm embLn;
    public final List<BertLayer> layers = new ArrayList<>();
    public final Linear pooler; // null without pooler
    private final Dropout embDrop;
    private boolean training;
    /** Prefix-tuning key/value rows for every layer (null: none). Real tokens then take positions P..P+T-1. */
    private KeyValuePrefix prefix;
    /**
     * Prompt-tuning rows prepended to the input embeddings (null: none). As in PEFT, they take positions 0..P−1 and
     * token type 0, the mask is extended with ones, and the hidden state has P+T rows per example (the pooler then
     * reads the first virtual token).
     */
    private VirtualTokens prompt;
    private final String modulePrefix;
    private int promptLen, tokens; // P and the real T of the last forward

    private int b, t;
    private boolean skipPadding, poolerRowsOnly;
    private RowPacking packing; // the last forward's real-token rows (null: the layers ran on every row)
    private RowPacking readout; // the last layer's output rows, among the layers' rows (null: all of them)
    private INDArray pooledPre; // tanh output, for backward
    private INDArray mask;
    private final List<INDArray> hiddenStates = new ArrayList<>();
    private float[][] fusedStates;   // SingleSequenceForward's hidden states (rows), when it ran the last forward
    private Batch fusedBatch;        // and its batch: a backward after it runs the layers' forward first

    public BertModel(BertConfig c, String prefix, boolean withPooler, DataType type, long seed) {
        this.config = c;
        this.type = type;
        this.modulePrefix = prefix;
        Random rng = Nd4j.getRandomFactory().getNewRandomInstance(seed);
        word = new Embedding(prefix + "embeddings.word_embeddings", c.vocabSize(), c.hiddenSize(), type);
        position = new Embedding(prefix + "embeddings.position_embeddings", c.maxPositionEmbeddings(), c.hiddenSize(), type);
        tokenType = new Embedding(prefix + "embeddings.token_type_embeddings", c.typeVocabSize(), c.hiddenSize(), type);
        embLn = new LayerNorm(prefix + "embeddings.LayerNorm", c.hiddenSize(), c.layerNormEps(), type);
        embDrop = new Dropout(c.hiddenDropoutProb(), rng);
        for (int i = 0; i < c.numHiddenLayers(); i++) layers.add(new BertLayer(prefix + "encoder.layer." + i + ".", c, type, rng));
        pooler = withPooler ? Linear.linear(prefix + "pooler.dense", c.hiddenSize(), c.hiddenSize(), true, type) : null;
        org.finsent.core.nn.Init.initialize(parameters(), seed, 0);
    }

    public void train(boolean on) {
        training = on;
    }

    public boolean training() {
        return training;
    }

    /**
     * Whether the layers run on the real tokens' rows only ({@link RowPacking}; off by default). The real tokens'
     * results are those of the padded computation, up to the order of floating-point sums; the last hidden state's
     * padding rows are then zero instead of what attention over the real keys would give them (Hugging Face's
     * values there, which nothing should read), except each example's first row, which the pooler reads and which
     * is always computed. {@link BertForSequenceClassification} turns it on: its logits read
     * the [CLS] row only.
     */
    public void skipPadding(boolean on) {
        skipPadding = on;
    }

    public boolean skipsPadding() {
        return skipPadding;
    }

    /**
     * Whether the last layer computes only each example's first row (off by default): the one row per example the
     * pooler reads. Every layer below still runs on every row, since the last layer's keys and values need them;
     * only its queries, attention output, feed-forward block and LayerNorms shrink to B rows (with B·T rows in
     * the other layers that is 10/12 of one layer's projections).
     * The pooled output and every gradient are those of the full computation up to the order of floating-point
     * sums; the last hidden state ({@link #forward}, {@link #hiddenStates}) then holds those first rows only, zero
     * elsewhere. {@link BertForSequenceClassification} turns it on; whoever wants hidden states turns it off.
     */
    public void poolerRowsOnly(boolean on) {
        poolerRowsOnly = on;
    }

    public boolean poolerRowsOnly() {
        return poolerRowsOnly;
    }

    /**
     * Last hidden state {@code [B·T, C]}. In eval, one FP32 sequence without padding takes
     * {@link SingleSequenceForward} (the same bits, without ND4J's per-op costs) when nothing wraps the layers.
     */
    public INDArray forward(Batch batch) {
        return forward(batch, true);
    }

    private INDArray forward(Batch batch, boolean fusedAllowed) {
        fusedStates = null;
        fusedBatch = null;
        if (fusedAllowed && prefix == null && prompt == null) {
            List<SingleSequenceForward.Layer> plain = plainLayers();
            if (SingleSequenceForward.applies(this, batch, plain)) {
                SingleSequenceForward.Result r = SingleSequenceForward.run(this, batch, plain, poolerRowsOnly);
                b = 1;
                t = tokens = batch.seqLen();
                promptLen = 0;
                hiddenStates.clear();
                packing = readout = null;
                fusedStates = r.states();
                fusedBatch = batch;
                return r.last();
            }
        }
        return forwardLayers(batch);
    }

    /** Whether the last forward took the single-sequence path ({@link #forward}). */
    public boolean singleSequenceRan() {
        return fusedStates != null;
    }

    /** Every layer's plain parts, or null when any layer has a wrapped projection or output. */
    private List<SingleSequenceForward.Layer> plainLayers() {
        List<SingleSequenceForward.Layer> out = new ArrayList<>(layers.size());
        for (BertLayer l : layers) {
            SingleSequenceForward.Layer p = l.plainParts();
            if (p == null) return null;
            out.add(p);
        }
        return out;
    }

    /** The forward through {@link BertLayer}: any batch, training or eval; what backward needs is kept. */
    private INDArray forwardLayers(Batch batch) {
        b = batch.batchSize();
        tokens = batch.seqLen();
        promptLen = prompt == null ? 0 : prompt.length();
        t = tokens + promptLen;
        int p = prefix == null ? 0 : prefix.length();
        if (p + t > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence length " + t + (p > 0 ? " + prefix " + p : "") + " exceeds max_position_embeddings "
                    + config.maxPositionEmbeddings());
        }
        // With a prefix, Hugging Face reads positions after the past key/values: P..P+T-1.
        int[] pos = new int[b * t];
        for (int i = 0; i < pos.length; i++) pos[i] = p + i % t;
        int[][] types = batch.tokenTypeIds(), attention = batch.attentionMask();
        INDArray x = word.forward(Nd4j.createFromArray(Batch.flat(batch.inputIds())));
        if (promptLen > 0) {
            x = VirtualTokens.prepend(prompt.embeddings(), x, b, tokens);
            types = VirtualTokens.extendMask(types, promptLen);               // ones in front...
            for (int[] row : types) java.util.Arrays.fill(row, 0, promptLen, 0); // ...made token type 0
            attention = VirtualTokens.extendMask(attention, promptLen);
        }
        x = x.addi(position.forward(Nd4j.createFromArray(pos)))
                .addi(tokenType.forward(Nd4j.createFromArray(Batch.flat(types))));
        x = embDrop.forward(embLn.forward(x), training);
        mask = Attention.mask(attention, false, p, type);
        int[][] run = rowsToRun(attention);
        packing = skipPadding ? RowPacking.of(run) : null;
        readout = poolerRowsOnly ? RowPacking.of(firstRows(run, packing != null)) : null;
        hiddenStates.clear();
        hiddenStates.add(x);
        if (packing != null) x = packing.gather(x);
        LayerContext pass = new LayerContext(b, t, mask, training, prefix, 0, packing, readout, null);
        for (int i = 0; i < layers.size(); i++) {
            x = layers.get(i).forward(x, pass.at(i, i == layers.size() - 1));
            hiddenStates.add(x);
        }
        return padded(x);
    }

    /** The last layer's rows → the padded layout {@code [B·T, C]} (zero rows where nothing was computed). */
    private INDArray padded(INDArray last) {
        if (readout != null) last = readout.scatter(last);
        return packing == null ? last : packing.scatter(last);
    }

    /**
     * A one-row "mask" over the layers' rows (the packed rows of {@code run} when packed, else all B·T) marking
     * each example's first row: the rows {@link #poolerRowsOnly} keeps in the last layer.
     */
    private static int[][] firstRows(int[][] run, boolean packed) {
        int rows = 0;
        for (int[] r : run) rows += packed ? java.util.Arrays.stream(r).map(v -> v != 0 ? 1 : 0).sum() : r.length;
        int[][] first = new int[1][rows];
        int at = 0;
        for (int[] r : run) {
            first[0][at] = 1;                                    // position 0 always runs (rowsToRun)
            at += packed ? java.util.Arrays.stream(r).map(v -> v != 0 ? 1 : 0).sum() : r.length;
        }
        return first;
    }

    /**
     * The rows the layers must compute when skipping padding: the real tokens, and each example's first position,
     * which the pooler reads even where a left-padded batch puts padding there.
     */
    private static int[][] rowsToRun(int[][] attention) {
        int[][] run = new int[attention.length][];
        for (int n = 0; n < run.length; n++) {
            run[n] = attention[n].clone();
            if (run[n].length > 0) run[n][0] = 1;
        }
        return run;
    }

    /**
     * Hugging Face's {@code output_hidden_states} of the last forward: the embeddings output, then each layer's
     * output ({@code L+1} arrays {@code [B·T, C]}). The layers keep these arrays for backward anyway, and nothing
     * writes into them, so recording them costs no copy (with {@link #skipPadding} the layers' rows are scattered
     * into the padded layout here, zero at padding; with {@link #poolerRowsOnly} the last one holds each example's
     * first row only).
     */
    public List<INDArray> hiddenStates() {
        if (fusedStates != null) {
            List<INDArray> out = new ArrayList<>(fusedStates.length);
            for (float[] rows : fusedStates) out.add(Nd4j.create(rows, new long[]{t, config.hiddenSize()}, DataType.FLOAT));
            return out;
        }
        if (packing == null && readout == null) return List.copyOf(hiddenStates);
        List<INDArray> out = new ArrayList<>(List.of(hiddenStates.get(0)));   // the embeddings ran padded
        int last = hiddenStates.size() - 1;
        for (int i = 1; i < last; i++) out.add(packing == null ? hiddenStates.get(i) : packing.scatter(hiddenStates.get(i)));
        if (last > 0) out.add(padded(hiddenStates.get(last)));
        return out;
    }

    /** {@code tanh(Wp·h[:, 0])}: {@code [B, C]} from the last hidden state. */
    public INDArray pool(INDArray hidden) {
        INDArray cls = hidden.reshape(b, t, config.hiddenSize()).get(NDArrayIndex.all(), NDArrayIndex.point(0), NDArrayIndex.all()).dup();
        pooledPre = Transforms.tanh(pooler.forward(cls), true);
        return pooledPre;
    }

    /** Backward of {@link #pool}: the gradient on the hidden state ({@code [B·T, C]}, non-zero on [CLS] rows). */
    public INDArray poolBackward(INDArray dPooled) {
        INDArray dPre = pooledPre.mul(pooledPre).rsubi(1).muli(dPooled);      // tanh' = 1 - tanh²
        INDArray dCls = pooler.backward(dPre);                                 // [B, C]
        INDArray dHidden = Nd4j.zeros(type, (long) b * t, config.hiddenSize());
        for (int n = 0; n < b; n++) dHidden.putRow((long) n * t, dCls.getRow(n));
        return dHidden;
    }

    /**
     * Backward from {@code d(last hidden state)}; accumulates every trainable parameter's gradient. Returns the
     * gradient w.r.t. the word embeddings of the batch, or null when nothing below the first layer trains
     * (embeddings frozen, no prompt): then the first layer's input gradient is not computed at all.
     */
    public INDArray backward(INDArray dHidden) {
        if (fusedBatch != null) {                   // SingleSequenceForward kept nothing for a backward: recompute
            Batch again = fusedBatch;
            forward(again, false);
        }
        INDArray d = packing == null ? dHidden : packing.gather(dHidden);
        if (readout != null) d = readout.gather(d);                            // the rows the last layer computed
        boolean below = promptLen > 0 || word.weight.trainable() || position.weight.trainable()
                || tokenType.weight.trainable() || embLn.parameters().stream().anyMatch(Parameter::trainable);
        for (int i = layers.size() - 1; i >= 0; i--) d = layers.get(i).backward(d, i > 0 || below);
        if (!below) return null;
        if (packing != null) d = packing.scatter(d);
        d = embLn.backward(embDrop.backward(d));
        position.backward(d);
        tokenType.backward(d);
        if (promptLen > 0) d = prompt.backwardThrough(d, b, tokens);
        word.backward(d);
        return d; // gradient w.r.t. the word embeddings of the batch
    }

    /**
     * Where PEFT methods attach: every layer's projections and output, the attention layers' key/value prefix and
     * the word embeddings' virtual tokens.
     */
    public InsertionPoints insertionPoints(String modelClass) {
        List<ProjectionSlot> projections = new ArrayList<>();
        for (BertLayer l : layers) projections.addAll(l.projectionSlots());
        var geometry = new InsertionPoints.Geometry(config.numHiddenLayers(), config.numAttentionHeads(),
                config.hiddenSize() / config.numAttentionHeads());
        return new InsertionPoints.Listing("bert", modelClass, modulePrefix, projections,
                layers.stream().map(BertLayer::block).toList(),
                new InsertionPoints.PrefixSlot(geometry, () -> prefix, p -> prefix = p),
                new InsertionPoints.PromptSlot(word.weight, () -> prompt, p -> prompt = p));
    }

    public List<Parameter> parameters() {
        List<Parameter> p = new ArrayList<>(List.of(word.weight, position.weight, tokenType.weight));
        p.addAll(embLn.parameters());
        for (BertLayer l : layers) p.addAll(l.parameters());
        if (pooler != null) p.addAll(pooler.parameters());
        return p;
    }

    /** Parameters by Hugging Face name. */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (Parameter p : parameters()) m.put(p.name(), p);
        return m;
    }
}
