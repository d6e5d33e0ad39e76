package org.finsent.core.model;

import org.finsent.core.nn.Attention;
import org.finsent.core.nn.Dropout;
import org.finsent.core.nn.Embedding;
import org.finsent.core.nn.InsertionPoints;
import org.finsent.core.nn.KeyValuePrefix;
import org.finsent.core.nn.LayerNorm;
import org.finsent.core.nn.Parameter;
import org.finsent.core.nn.ProjectionSlot;
import org.finsent.core.nn.VirtualTokens;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

/**
 * GPT-2 decoder ({@code transformers.GPT2Model}):
 * <pre>
 *   h0 = Drop(wte[ids] + wpe[pos])
 *   hl = Gpt2Block_l(h(l-1), causal ∧ padding mask)      l = 1..L (pre-LN)
 *   out = ln_f(hL)                                        [B·T, C]
 * </pre>
 * Positions: by default each row counts its real tokens ({@code pos = cumsum(mask) − 1}, 0 on padding), so a
 * left-padded row gets the same positions, hence the same outputs, as the unpadded text. Hugging Face's
 * {@code forward} without {@code position_ids} uses {@code 0..T-1} instead (identical for right padding); pass
 * {@link #sequentialPositions(int, int)} to {@link #forward(Batch, int[][])} to reproduce that.
 */
public final class Gpt2Model {
    public final Gpt2Config config;
    public final DataType type;
    public final Embedding wte, wpe;
    public final List<Gpt2Block> blocks = new ArrayList<>();
    public final LayerNorm lnF;
    private final Dropout drop;
    private boolean training;
    /** Prefix-tuning key/value rows for every block (null: none). Positions then start at P, as after a cache. */
    private KeyValuePrefix prefix;
    /** Prompt-tuning rows prepended to the input embeddings (null: none); the mask is extended with ones. */
    private VirtualTokens prompt;
    private final String modulePrefix;
    private int promptLen, tokens, batch;
    private final List<INDArray> hiddenStates = new ArrayList<>();
    private boolean lastTokenOnly;
    private org.finsent.core.nn.RowPacking readout; // the last block's output rows, among every row (null: all)

    public Gpt2Model(Gpt2Config c, String prefix, DataType type, long seed) {
        this.config = c;
        this.type = type;
        this.modulePrefix = prefix;
        Random rng = Nd4j.getRandomFactory().getNewRandomInstance(seed);
        wte = new Embedding(prefix + "wte", c.vocabSize(), c.nEmbd(), type);
        wpe = new Embedding(prefix + "wpe", c.nPositions(), c.nEmbd(), type);
        drop = new Dropout(c.embdPdrop(), rng);
        for (int i = 0; i < c.nLayer(); i++) blocks.add(new Gpt2Block(prefix + "h." + i + ".", c, type, rng));
        lnF = new LayerNorm(prefix + "ln_f", c.nEmbd(), c.layerNormEpsilon(), type);
        org.finsent.core.nn.Init.initialize(parameters(), seed, c.nLayer());
    }

    public void train(boolean on) {
        training = on;
    }

    public boolean training() {
        return training;
    }

    /**
     * Whether the last block computes only each example's last real token (what {@link Gpt2ForSequenceClassification}
     * reads; on there by default): c_attn still runs on every row (keys and values), the rest of the block and ln_f
     * on B rows — 9/12 of one block's projection FLOPs. {@link #forward} then returns those rows in place and zero
     * rows elsewhere, and so does the last entry of {@link #hiddenStates()}. Off by default here (a language model
     * reads every row). Same logits and gradients either way.
     */
    public void lastTokenOnly(boolean on) {
        lastTokenOnly = on;
    }

    public boolean lastTokenOnly() {
        return lastTokenOnly;
    }

    /** Row index (in {@code [B·T]}) of each example's last real token under a {@code [B][T]} attention mask. */
    public static int[] lastTokenRows(int[][] mask) {
        int t = mask[0].length;
        int[] rows = new int[mask.length];
        for (int n = 0; n < mask.length; n++) {
            int last = -1;
            for (int i = 0; i < t; i++) if (mask[n][i] != 0) last = i;
            if (last < 0) throw new IllegalArgumentException("row " + n + " of the batch has no real token");
            rows[n] = n * t + last;
        }
        return rows;
    }

    /** Positions that ignore padding: {@code cumsum(mask) − 1}, and 0 on padded positions. */
    public static int[][] positionIds(int[][] attentionMask) {
        int[][] pos = new int[attentionMask.length][];
        for (int n = 0; n < attentionMask.length; n++) {
            pos[n] = new int[attentionMask[n].length];
            int seen = 0;
            for (int i = 0; i < pos[n].length; i++) {
                if (attentionMask[n][i] != 0) pos[n][i] = seen++;
            }
        }
        return pos;
    }

    /** Hugging Face's default when no {@code position_ids} are passed: {@code 0..T-1} in every row, padding or not. */
    public static int[][] sequentialPositions(int batch, int length) {
        int[][] pos = new int[batch][length];
        for (int[] row : pos) java.util.Arrays.setAll(row, i -> i);
        return pos;
    }

    public INDArray forward(Batch batch) {
        int[][] pos = positionIds(effectiveMask(batch.attentionMask()));
        int p = prefix == null ? 0 : prefix.length();
        if (p > 0) for (int[] row : pos) for (int i = 0; i < row.length; i++) row[i] += p;
        return forward(batch, pos);
    }

    /** The attention mask the blocks see: with prompt tuning, P ones in front of every row. */
    public int[][] effectiveMask(int[][] mask) {
        return prompt == null ? mask : VirtualTokens.extendMask(mask, prompt.length());
    }

    /** With explicit position ids {@code [B, T]} ({@code [B, P+T]} with prompt tuning). */
    public INDArray forward(Batch batch, int[][] positions) {
        promptLen = prompt == null ? 0 : prompt.length();
        tokens = batch.seqLen();
        this.batch = batch.batchSize();
        int b = batch.batchSize(), t = tokens + promptLen;
        int p = prefix == null ? 0 : prefix.length();
        if (p + t > config.nPositions()) throw new IllegalArgumentException("sequence length " + t + (p > 0 ? " + prefix " + p : "")
                + " exceeds n_positions " + config.nPositions());
        INDArray x = wte.forward(Nd4j.createFromArray(Batch.flat(batch.inputIds())));
        if (promptLen > 0) x = VirtualTokens.prepend(prompt.embeddings(), x, b, tokens);
        x = x.addi(wpe.forward(Nd4j.createFromArray(Batch.flat(positions))));
        x = drop.forward(x, training);
        int[][] attention = effectiveMask(batch.attentionMask());
        INDArray mask = Attention.mask(attention, true, p, type);
        readout = null;
        INDArray readoutMask = null;
        if (lastTokenOnly) {
            int[][] rows = new int[1][b * t];                   // a one-row "mask" marking the rows to output
            for (int r : lastTokenRows(attention)) rows[0][r] = 1;
            readout = org.finsent.core.nn.RowPacking.of(rows);  // null when every row is one (T = 1)
            readoutMask = readout == null ? null : Attention.keyMask(attention, p, type);
        }
        hiddenStates.clear();
        LayerContext pass = new LayerContext(b, t, mask, training, prefix, 0, null, readout, readoutMask);
        for (int i = 0; i < blocks.size(); i++) {
            hiddenStates.add(x);
            x = blocks.get(i).forward(x, pass.at(i, i == blocks.size() - 1));
        }
        INDArray out = lnF.forward(x);
        if (readout != null) out = readout.scatter(out);
        hiddenStates.add(out);
        return out;
    }

    /**
     * Hugging Face's {@code output_hidden_states} of the last forward: the embeddings output, the outputs of blocks
     * 1..L−1, and {@code ln_f} of the last block's output ({@code L+1} arrays {@code [B·T, C]}), which is what
     * {@code transformers.GPT2Model} returns. The blocks keep these arrays for backward anyway, so recording them
     * costs no copy. With {@link #lastTokenOnly} the last one holds each example's last real token only (zero rows
     * elsewhere).
     */
    public List<INDArray> hiddenStates() {
        return List.copyOf(hiddenStates);
    }

    /** Backward from {@code d(out)}; returns the gradient w.r.t. the summed input embeddings. */
    public INDArray backward(INDArray dOut) {
        INDArray d = lnF.backward(readout == null ? dOut : readout.gather(dOut));  // the rows the last block computed
        for (int i = blocks.size() - 1; i >= 0; i--) d = blocks.get(i).backward(d);
        d = drop.backward(d);
        wpe.backward(d);
        if (promptLen > 0) d = prompt.backwardThrough(d, batch, tokens);
        wte.backward(d);
        return d;
    }

    /**
     * Where PEFT methods attach: every block's projections and output, the attention layers' key/value prefix and
     * the token embeddings' virtual tokens.
     */
    public InsertionPoints insertionPoints(String modelClass) {
        List<ProjectionSlot> projections = new ArrayList<>();
        for (Gpt2Block blk : blocks) projections.addAll(blk.projectionSlots());
        var geometry = new InsertionPoints.Geometry(config.nLayer(), config.nHead(), config.nEmbd() / config.nHead());
        return new InsertionPoints.Listing("gpt2", modelClass, modulePrefix, projections,
                blocks.stream().map(Gpt2Block::block).toList(),
                new InsertionPoints.PrefixSlot(geometry, () -> prefix, p -> prefix = p),
                new InsertionPoints.PromptSlot(wte.weight, () -> prompt, p -> prompt = p));
    }

    public List<Parameter> parameters() {
        List<Parameter> p = new ArrayList<>(List.of(wte.weight, wpe.weight));
        for (Gpt2Block blk : blocks) p.addAll(blk.parameters());
        p.addAll(lnF.parameters());
        return p;
    }
}
