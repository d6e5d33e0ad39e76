package org.finsent.train.optim;

import org.finsent.core.nn.HostThreads;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

import static org.finsent.core.nn.HostKernels.doubles;
import static org.finsent.core.nn.HostKernels.floats;

/**
 * One parameter's {@link AdamW} update in a single pass over p, g, m and v in host memory (ND4J's CPU backend).
 *
 * <p>Why: as whole-tensor ND4J ops the update is 13 passes over parameter-sized arrays; for BERT-Base full
 * fine-tuning that is ~14 GB of memory traffic per step. Fused, each element is read and written once (~3 GB).
 * The arithmetic is exactly the ND4J path's, element by element, in the parameter's type (each ND4J scalar op rounds its double scalar to that type first, and so does this loop;
 * {@code (float) Math.sqrt(v)} is the correctly rounded float square root), so both paths agree bit for bit.
 * It runs only where {@link org.finsent.core.nn.FastPaths} lets host-memory fast paths run.
 * Large parameters are split across ND4J's thread count, on {@link HostThreads} like the other host loops.
 */
final class FusedAdamW {
    private static final int CHUNK = 1 << 16;

    private FusedAdamW() {
    }

    static boolean usable(INDArray w, INDArray g, INDArray m, INDArray v) {
        DataType t = w.dataType();
        return org.finsent.core.nn.FastPaths.enabled() && (t == DataType.FLOAT || t == DataType.DOUBLE)
                && w.length() < Integer.MAX_VALUE && dense(w) && dense(g) && dense(m) && dense(v);
    }

    private static boolean dense(INDArray x) {
        return x.ordering() == 'c' && Shape.hasDefaultStridesForShape(x);
    }

    /**
     * {@link AdamW#step(double)}'s update of one parameter at its step {@code t} (already incremented); with
     * {@code zeroGrad} each gradient element is set to zero right after it is read.
     */
    static void update(INDArray w, INDArray g, INDArray m, INDArray v, double lr, double wd, double b1, double b2,
                       double eps, long t, boolean zeroGrad) {
        int n = (int) w.length();
        double bc1 = 1.0 - Math.pow(b1, t), bc2 = 1.0 - Math.pow(b2, t);
        double stepSize = lr / bc1, bc2Sqrt = Math.sqrt(bc2);
        int chunks = (n + CHUNK - 1) / CHUNK;
        if (w.dataType() == DataType.FLOAT) {
            FloatBuffer pw = floats(w), pg = floats(g), pm = floats(m), pv = floats(v);
            float decay = (float) (1.0 - lr * wd), c1 = (float) (1.0 - b1), c2 = (float) (1.0 - b2), fb2 = (float) b2;
            float fbc2 = (float) bc2Sqrt, feps = (float) eps, fstep = (float) -stepSize;
            boolean decays = wd != 0.0;
            HostThreads.parallelFor(chunks, c -> {
                int end = Math.min(n, (c + 1) * CHUNK);
                for (int i = c * CHUNK; i < end; i++) {
                    float gi = pg.get(i), mi = pm.get(i), vi = pv.get(i), wi = pw.get(i);
                    if (zeroGrad) pg.put(i, 0f);
                    if (decays) wi = wi * decay;                    // param.mul_(1 - lr * weight_decay)
                    mi = mi + (gi - mi) * c1;                       // exp_avg.lerp_(grad, 1 - beta1)
                    vi = vi * fb2 + gi * gi * c2;                   // exp_avg_sq.mul_(beta2).addcmul_(g, g, 1 - beta2)
                    float d = (float) Math.sqrt(vi) / fbc2 + feps;  // denom = sqrt(v) / sqrt(bc2) + eps
                    wi = wi + (mi / d) * fstep;                     // param.addcdiv_(exp_avg, denom, -step_size)
                    pm.put(i, mi);
                    pv.put(i, vi);
                    pw.put(i, wi);
                }
            });
        } else {
            DoubleBuffer pw = doubles(w), pg = doubles(g), pm = doubles(m), pv = doubles(v);
            double decay = 1.0 - lr * wd, c1 = 1.0 - b1, c2 = 1.0 - b2, step = -stepSize;
            boolean decays = wd != 0.0;
            HostThreads.parallelFor(chunks, c -> {
                int end = Math.min(n, (c + 1) * CHUNK);
                for (int i = c * CHUNK; i < end; i++) {
                    double gi = pg.get(i), mi = pm.get(i), vi = pv.get(i), wi = pw.get(i);
                    if (zeroGrad) pg.put(i, 0.0);
                    if (decays) wi = wi * decay;
                    mi = mi + (gi - mi) * c1;
                    vi = vi * b2 + gi * gi * c2;
                    double d = Math.sqrt(vi) / bc2Sqrt + eps;
                    wi = wi + (mi / d) * step;
                    pm.put(i, mi);
                    pv.put(i, vi);
                    pw.put(i, wi);
                }
            });
        }
    }
}
