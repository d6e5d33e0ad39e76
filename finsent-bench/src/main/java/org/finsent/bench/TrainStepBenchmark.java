package org.finsent.bench;

import org.finsent.bench.train.Arch;
import org.finsent.bench.train.OursStep;
import org.finsent.bench.train.Technique;
import org.finsent.bench.train.TorchStep;
import org.finsent.bench.train.TrainStep;
import org.finsent.bench.train.Workloads;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * One training step (forward + backward + AdamW), batch 8 × 128, FinSent ({@code impl=ours}) or PyTorch via DJL
 * ({@code impl=torch}); one step per measured call (single-shot: a BERT-Base step takes seconds). For the tables,
 * {@link Compare} runs the same steps interleaved. Example:
 * {@code java -jar benchmarks.jar TrainStepBenchmark -p arch=MINILM -p technique=FULL,LORA}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx6g", "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=2",
        "-Dai.djl.pytorch.num_interop_threads=1"})
public class TrainStepBenchmark {
    @Param({"BERT_BASE", "MINILM", "GPT2_SMALL"})
    public String arch;
    @Param({"FULL", "LORA", "ADAPTER", "PREFIX"})
    public String technique;
    @Param({"ours", "torch"})
    public String impl;

    private TrainStep step;

    @Setup(Level.Trial)
    public void setup() {
        Arch a = Arch.valueOf(arch);
        Technique t = Technique.valueOf(technique);
        step = impl.equals("torch") ? new TorchStep(a, t, 42) : new OursStep(a, t, 42);
        Workloads.Labeled in = Workloads.synthetic(a, 8, 128, 7);
        step.setBatch(in.batch(), in.labels());
    }

    @Benchmark
    public double step() {
        step.step();
        return step.lastLoss();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        step.close();
    }
}
