package org.finsent.train.optim;

import org.finsent.core.io.StateDict;
import org.finsent.core.model.CrossEntropyLoss;
import org.finsent.core.nn.Linear;
import org.finsent.core.oracle.Golden;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link AdamW} + {@link LrSchedule#linear} against {@code torch.optim.AdamW} + Transformers'
 * {@code get_linear_schedule_with_warmup} (golden/optim/adamw_linear.safetensors): softmax regression
 * {@code x·w + b} (w [4,3] — a Conv1D layout — decays 0.01, b does not), lr 2e-2, β (0.9, 0.999), ε 1e-8, 3 warm-up
 * steps of 10. Every step's learning rate (read before the step, so step 0 has lr 0 and still moves the moments),
 * loss, w and b must match to {@link Golden#FP64}; measured ~1e-16.
 */
class GoldenAdamWTest {

    @Test
    void tenStepsMatchTorchAdamWWithLinearWarmup() {
        StateDict g = Golden.read(Golden.dir("optim").resolve("adamw_linear.safetensors"));
        Linear lin = Linear.conv1d("classifier", 4, 3, DataType.DOUBLE);   // y = x·w + b, w [in, out] as in the golden
        lin.weight.assign(g.require("w0").toINDArray(DataType.DOUBLE));
        lin.bias.assign(g.require("b0").toINDArray(DataType.DOUBLE));
        INDArray x = g.require("x").toINDArray(DataType.DOUBLE);
        int[] y = Golden.ints(g.require("y"));
        // Hugging Face's no-decay rule puts the bias in the no-decay group, as the golden's two param groups do
        AdamW opt = new AdamW(lin.parameters(), AdamW.Options.HF_DEFAULTS.withLr(2e-2).withWeightDecay(0.01));
        assertEquals(List.of(true, false), lin.parameters().stream().map(opt::decays).toList());
        LrSchedule schedule = LrSchedule.linear(2e-2, 3, 10);
        double worst = 0;
        for (int s = 0; s < 10; s++) {
            lin.weight.zeroGrad();
            lin.bias.zeroGrad();
            CrossEntropyLoss.Result loss = new CrossEntropyLoss(null).compute(lin.forward(x), y);
            lin.backward(loss.dLogits());
            double lr = schedule.lr(opt.steps());
            assertEquals(g.require("lr." + s).toDoubles()[0], lr, 0, "lr before step " + s);
            opt.step(lr);
            double wantLoss = g.require("loss." + s).toDoubles()[0];
            assertEquals(wantLoss, loss.loss(), Golden.FP64 * wantLoss, "loss at step " + s);
            worst = Math.max(worst, Golden.assertClose("w after step " + s, g.require("w." + s), lin.weight.value(), Golden.FP64));
            worst = Math.max(worst, Golden.assertClose("b after step " + s, g.require("b." + s), lin.bias.value(), Golden.FP64));
        }
        System.out.printf("golden AdamW+linear: 10 steps, max parameter error %.2e of scale%n", worst);
    }
}
