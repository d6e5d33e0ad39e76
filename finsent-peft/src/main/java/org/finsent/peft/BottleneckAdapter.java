package org.finsent.peft;

import org.finsent.core.nn.LayerNorm;
import org.finsent.core.nn.Linear;
import org.finsent.core.nn.OutputHook;
import org.finsent.core.nn.Parameter;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.GaussianDistribution;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.List;

/**
 * The Pfeiffer (SeqBn) bottleneck adapter after a layer's feed-forward output, computed exactly as the
 * {@code adapters} library's {@code pre_forward} → {@code Adapter.forward} → {@code post_forward}:
 * <pre>
 *   f = FFN output after dropout, x = the layer's residual input, A(z) = W_up·ReLU(W_down·z + b_down) + b_up
 *   BERT (post-LN, the layer's own frozen LayerNorm applied twice):
 *       s = f + x;  y = LN( s + A(LN(s)) )
 *   GPT-2 (pre-LN, no LayerNorm at this point):
 *       s = f + x;  y = s + A(s)
 * </pre>
 * (residual_before_ln=True keeps f as the adapter's residual; original_ln_before adds x and normalises;
 * original_ln_after adds x again before the final LN — hence s + A(·) inside.) Backward keeps the two LN caches
 * apart; a trainable LN would accumulate gradient from both uses.
 */
public final class BottleneckAdapter implements OutputHook {
    public final Linear down, up;
    private final String prefix;
    // the last forward's: the block's LayerNorm (null: pre-LN) and its two uses' caches
    private LayerNorm ln;
    private LayerNorm.Cache ln1, ln2;
    private INDArray downPre;

    /** @param prefix module name of the adapter, e.g. {@code bert.encoder.layer.3.output.adapters.pfeiffer.} */
    public BottleneckAdapter(String prefix, int hidden, AdapterConfig cfg, DataType type) {
        this.prefix = prefix;
        int bottleneck = hidden / cfg.reductionFactor();
        if (bottleneck < 1) throw new IllegalArgumentException("hidden " + hidden + " / reduction_factor " + cfg.reductionFactor() + " < 1");
        down = Linear.linear(prefix + "adapter_down.0", hidden, bottleneck, true, type);
        up = Linear.linear(prefix + "adapter_up", bottleneck, hidden, true, type);
        var rng = Nd4j.getRandomFactory().getNewRandomInstance(cfg.seed() ^ prefix.hashCode());
        Nd4j.getExecutioner().exec(new GaussianDistribution(down.weight.value(), 0, 0.02), rng);
        Nd4j.getExecutioner().exec(new GaussianDistribution(up.weight.value(), 0, 0.02), rng);
    }

    public String prefix() {
        return prefix;
    }

    /** A(z) = W_up·ReLU(W_down·z + b_down) + b_up. */
    private INDArray adapter(INDArray z) {
        downPre = down.forward(z);
        return up.forward(Transforms.relu(downPre, true));
    }

    /** dA/dz given d(output). */
    private INDArray adapterBackward(INDArray dOut) {
        INDArray dRelu = up.backward(dOut).muli(downPre.gt(0).castTo(dOut.dataType()));
        return down.backward(dRelu);
    }

    @Override
    public INDArray forward(INDArray f, INDArray residual, LayerNorm layerNorm) {
        ln = layerNorm;
        INDArray s = f.add(residual);
        if (layerNorm == null) return s.add(adapter(s));                 // pre-LN; not addi: s is down's cached input
        LayerNorm.Output n1 = layerNorm.forwardCached(s);
        INDArray a = adapter(n1.y());
        LayerNorm.Output n2 = layerNorm.forwardCached(s.addi(a));         // in place is safe: the adapter cached LN(s), not s
        ln1 = n1.cache();
        ln2 = n2.cache();
        return n2.y();
    }

    @Override
    public Grads backward(INDArray dy) {
        INDArray ds;
        if (ln != null) {
            INDArray dz = ln.backward(dy, ln2);                          // z = s + A(LN(s))
            ds = dz.add(ln.backward(adapterBackward(dz), ln1));
        } else {
            ds = dy.add(adapterBackward(dy));                            // y = s + A(s)
        }
        return new Grads(ds, ds.dup());                                  // s = f + x
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> p = new ArrayList<>(down.parameters());
        p.addAll(up.parameters());
        return p;
    }
}
