package org.finsent.core.model;

import org.finsent.core.nn.Parameter;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GPT-2's forward against an independent reference written here with plain loops over double arrays (no ND4J),
 * following the Hugging Face computation literally (llm.c style), on random weights in FP64; plus causality.
 */
class Gpt2NaiveReferenceTest {

    /** Weights copied out of the model by Hugging Face name. */
    static double[][] w2(Map<String, Parameter> p, String name) {
        return p.get(name).value().toDoubleMatrix();
    }

    static double[] w1(Map<String, Parameter> p, String name) {
        return p.get(name).value().toDoubleVector();
    }

    static double[][] layerNorm(double[][] x, double[] g, double[] b, double eps) {
        int n = x.length, c = x[0].length;
        double[][] y = new double[n][c];
        for (int i = 0; i < n; i++) {
            double mean = 0, var = 0;
            for (double v : x[i]) mean += v;
            mean /= c;
            for (double v : x[i]) var += (v - mean) * (v - mean);
            var /= c;
            double rstd = 1 / Math.sqrt(var + eps);
            for (int j = 0; j < c; j++) y[i][j] = (x[i][j] - mean) * rstd * g[j] + b[j];
        }
        return y;
    }

    /** Conv1D: y = x·W + b with W [in, out]. */
    static double[][] conv1d(double[][] x, double[][] w, double[] b) {
        int n = x.length, in = w.length, out = w[0].length;
        double[][] y = new double[n][out];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < out; o++) {
                double s = b[o];
                for (int k = 0; k < in; k++) s += x[i][k] * w[k][o];
                y[i][o] = s;
            }
        }
        return y;
    }

    static double geluTanh(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    /** One sequence, no padding: hidden states after ln_f, [T][C]. */
    static double[][] reference(Map<String, Parameter> p, Gpt2Config cfg, int[] ids) {
        int t = ids.length, c = cfg.nEmbd(), nh = cfg.nHead(), hd = c / nh;
        double[][] wte = w2(p, "transformer.wte.weight"), wpe = w2(p, "transformer.wpe.weight");
        double[][] x = new double[t][c];
        for (int i = 0; i < t; i++) for (int j = 0; j < c; j++) x[i][j] = wte[ids[i]][j] + wpe[i][j];
        for (int l = 0; l < cfg.nLayer(); l++) {
            String pre = "transformer.h." + l + ".";
            double[][] a = layerNorm(x, w1(p, pre + "ln_1.weight"), w1(p, pre + "ln_1.bias"), cfg.layerNormEpsilon());
            double[][] qkv = conv1d(a, w2(p, pre + "attn.c_attn.weight"), w1(p, pre + "attn.c_attn.bias"));
            double[][] ctx = new double[t][c];
            for (int h = 0; h < nh; h++) {
                for (int i = 0; i < t; i++) {
                    double[] att = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {                         // causal: keys 0..i only
                        double s = 0;
                        for (int d = 0; d < hd; d++) s += qkv[i][h * hd + d] * qkv[j][c + h * hd + d];
                        att[j] = s / Math.sqrt(hd);
                        max = Math.max(max, att[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) sum += (att[j] = Math.exp(att[j] - max));
                    for (int j = 0; j <= i; j++) {
                        for (int d = 0; d < hd; d++) ctx[i][h * hd + d] += att[j] / sum * qkv[j][2 * c + h * hd + d];
                    }
                }
            }
            double[][] proj = conv1d(ctx, w2(p, pre + "attn.c_proj.weight"), w1(p, pre + "attn.c_proj.bias"));
            for (int i = 0; i < t; i++) for (int j = 0; j < c; j++) x[i][j] += proj[i][j];
            double[][] m = layerNorm(x, w1(p, pre + "ln_2.weight"), w1(p, pre + "ln_2.bias"), cfg.layerNormEpsilon());
            double[][] fc = conv1d(m, w2(p, pre + "mlp.c_fc.weight"), w1(p, pre + "mlp.c_fc.bias"));
            for (double[] row : fc) for (int j = 0; j < row.length; j++) row[j] = geluTanh(row[j]);
            double[][] out = conv1d(fc, w2(p, pre + "mlp.c_proj.weight"), w1(p, pre + "mlp.c_proj.bias"));
            for (int i = 0; i < t; i++) for (int j = 0; j < c; j++) x[i][j] += out[i][j];
        }
        return layerNorm(x, w1(p, "transformer.ln_f.weight"), w1(p, "transformer.ln_f.bias"), cfg.layerNormEpsilon());
    }

    @Test
    void forwardMatchesTheNaiveReference() {
        Gpt2Config cfg = new Gpt2Config(40, 16, 12, 3, 3, 20, "gelu_new", 0, 0, 0, 1e-5, 3, 39);
        var m = new Gpt2ForSequenceClassification(cfg, DataType.DOUBLE, 21);
        TinyModels.randomize(m.parameters(), 21);
        int[] ids = {3, 17, 0, 25, 25, 8, 39, 12};
        m.transformer.lastTokenOnly(false);                        // every row of the last block
        INDArray h = m.transformer.forward(Batch.of(new int[][]{ids}));
        double[][] ref = reference(m.namedParameters(), cfg, ids);
        double max = 0;
        for (int i = 0; i < ids.length; i++) {
            for (int j = 0; j < cfg.nEmbd(); j++) max = Math.max(max, Math.abs(h.getDouble(i, j) - ref[i][j]));
        }
        assertTrue(max <= 1e-9, "max abs difference " + max);
        // the classifier's default: the last block computes the last token only, the other rows are zero
        m.transformer.lastTokenOnly(true);
        INDArray last = m.transformer.forward(Batch.of(new int[][]{ids}));
        int n = ids.length - 1;
        for (int j = 0; j < cfg.nEmbd(); j++) assertEquals(ref[n][j], last.getDouble(n, j), 1e-9, "last token, column " + j);
        for (int i = 0; i < n; i++) assertEquals(0.0, last.getRow(i).norm1Number().doubleValue(), "row " + i + " not computed");
    }

    @Test
    void changingALaterTokenNeverChangesEarlierOutputs() {
        var m = TinyModels.gpt2Classifier(22);
        m.transformer.lastTokenOnly(false);                        // every position's output
        int[] ids = {3, 17, 0, 25, 8, 12};
        INDArray base = m.transformer.forward(Batch.of(new int[][]{ids}));
        for (int t = 0; t < ids.length; t++) {
            int[] changed = ids.clone();
            changed[t] = (ids[t] + 7) % 40;
            INDArray h = m.transformer.forward(Batch.of(new int[][]{changed}));
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < h.columns(); j++) assertEquals(base.getDouble(i, j), h.getDouble(i, j), 0, "position " + i + " after changing " + t);
            }
            assertTrue(Math.abs(base.getDouble(t, 0) - h.getDouble(t, 0)) > 0, "position " + t + " itself changes");
        }
    }
}
