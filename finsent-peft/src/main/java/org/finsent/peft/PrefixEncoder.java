package org.finsent.peft;

import org.finsent.core.nn.InsertionPoints;
import org.finsent.core.nn.KeyValuePrefix;
import org.finsent.core.nn.Linear;
import org.finsent.core.nn.Parameter;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.GaussianDistribution;
import org.nd4j.linalg.api.ops.random.impl.UniformDistribution;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.List;

/**
 * PEFT's {@code PrefixEncoder}: the per-layer key/value rows of prefix tuning.
 * <pre>
 *   with projection:    out = W2·tanh(W1·E + b1) + b2      E [P, C], W1 [E_h, C], W2 [L·2·C, E_h]
 *   without projection: out = E                             E [P, L·2·C]
 *   layer ℓ: keys = out[:, 2ℓ·C : (2ℓ+1)·C], values = out[:, (2ℓ+1)·C : (2ℓ+2)·C]   (PEFT's get_prompt layout)
 * </pre>
 * {@code out} is computed when layer 0 asks for its keys and back-propagated when layer 0's gradient arrives
 * (layers run 0..L−1 forward and L−1..0 backward). Initialisation as torch's defaults: E ~ N(0, 1), Linear
 * weights and biases ~ U(−1/√in, 1/√in).
 */
public final class PrefixEncoder implements KeyValuePrefix {
    public final Parameter embedding;
    public final Linear w1, w2; // null without projection
    private final int p, c, layers;
    private final InsertionPoints.Geometry geometry;
    private INDArray out, hidden, dOut;

    /** @param geometry the attention layers the rows are for (the model's {@link InsertionPoints.PrefixSlot}) */
    public PrefixEncoder(PrefixTuningConfig cfg, InsertionPoints.Geometry geometry, DataType type) {
        this.geometry = geometry;
        this.p = cfg.numVirtualTokens();
        this.c = geometry.hidden();
        this.layers = geometry.layers();
        int hidden = c;
        var rng = Nd4j.getRandomFactory().getNewRandomInstance(cfg.seed());
        int width = cfg.prefixProjection() ? hidden : layers * 2 * hidden;
        embedding = new Parameter("prefix_encoder.embedding.weight", Nd4j.zeros(type, p, width));
        Nd4j.getExecutioner().exec(new GaussianDistribution(embedding.value(), 0, 1), rng);
        if (cfg.prefixProjection()) {
            w1 = Linear.linear("prefix_encoder.transform.0", hidden, cfg.encoderHiddenSize(), true, type);
            w2 = Linear.linear("prefix_encoder.transform.2", cfg.encoderHiddenSize(), layers * 2 * hidden, true, type);
            for (Linear l : List.of(w1, w2)) {
                double bound = 1 / Math.sqrt(l.inFeatures());
                for (Parameter q : l.parameters()) Nd4j.getExecutioner().exec(new UniformDistribution(q.value(), -bound, bound), rng);
            }
        } else {
            w1 = w2 = null;
        }
    }

    /** The attention layers these rows are for. */
    public InsertionPoints.Geometry geometry() {
        return geometry;
    }

    /** The encoder's output {@code [P, L·2·C]}: what PEFT saves as {@code prompt_embeddings}. */
    public INDArray output() {
        if (w1 == null) return embedding.value();
        hidden = Transforms.tanh(w1.forward(embedding.value()), true);
        return w2.forward(hidden);
    }

    @Override
    public int length() {
        return p;
    }

    @Override
    public INDArray key(int layer) {
        if (layer == 0 || out == null) {
            out = output();
            dOut = null;
        }
        return out.get(NDArrayIndex.all(), NDArrayIndex.interval((long) 2 * layer * c, (long) (2 * layer + 1) * c));
    }

    @Override
    public INDArray value(int layer) {
        return out.get(NDArrayIndex.all(), NDArrayIndex.interval((long) (2 * layer + 1) * c, (long) (2 * layer + 2) * c));
    }

    @Override
    public void backward(int layer, INDArray dKey, INDArray dValue) {
        if (dOut == null) dOut = Nd4j.zeros(out.dataType(), p, (long) layers * 2 * c);
        dOut.get(NDArrayIndex.all(), NDArrayIndex.interval((long) 2 * layer * c, (long) (2 * layer + 1) * c)).addi(dKey);
        dOut.get(NDArrayIndex.all(), NDArrayIndex.interval((long) (2 * layer + 1) * c, (long) (2 * layer + 2) * c)).addi(dValue);
        if (layer != 0) return;
        if (w1 == null) {
            if (embedding.grad() != null) embedding.grad().addi(dOut);
        } else {
            INDArray dHidden = w2.backward(dOut).muli(hidden.mul(hidden).rsubi(1));   // tanh' = 1 − tanh²
            INDArray dEmb = w1.backward(dHidden);
            if (embedding.grad() != null) embedding.grad().addi(dEmb);
        }
        dOut = null;
    }

    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(List.of(embedding));
        if (w1 != null) {
            ps.addAll(w1.parameters());
            ps.addAll(w2.parameters());
        }
        return ps;
    }
}
