package org.finsent.core.model;

import org.finsent.core.nn.KeyValuePrefix;
import org.finsent.core.nn.RowPacking;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What one layer's forward needs besides its input: the pass it belongs to (shapes, mask, training, prefix) and
 * how its rows are routed. Routing is a performance matter only: every layer computes the same values with or
 * without it (up to the order of floating-point sums).
 *
 * @param batch       B
 * @param length      T, the padded length (with prompt tuning: P+T)
 * @param mask        the additive attention mask {@code [B,1,T,Tk]} (null: none)
 * @param training    dropout on
 * @param prefix      prefix-tuning key/value rows (null: none)
 * @param layer       this layer's index (the prefix's rows are per layer)
 * @param packing     the real tokens' rows when the layers skip padding (null: all B·T rows)
 * @param readout     the rows this layer outputs, among its input rows (null: all): the last layer under a
 *                    classification head that reads one row per example
 * @param readoutMask the additive mask of those rows' queries {@code [B,1,1,Tk]} (null: derived from
 *                    {@code mask}'s first query row)
 */
public record LayerContext(int batch, int length, INDArray mask, boolean training, KeyValuePrefix prefix, int layer,
                           RowPacking packing, RowPacking readout, INDArray readoutMask) {

    /** The same pass for layer {@code i}; the readout applies to the last layer only. */
    LayerContext at(int i, boolean last) {
        return new LayerContext(batch, length, mask, training, prefix, i, packing, last ? readout : null,
                last ? readoutMask : null);
    }
}
