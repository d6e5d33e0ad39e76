package org.finsent.bench;

import org.finsent.bench.train.Inference;
import org.finsent.core.model.Batch;
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

/** MiniLM forward (last hidden state + pooler) on FinancialPhraseBank sentences: FinSent vs ONNX Runtime, same ONNX file. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Xmx4g")
public class InferenceBenchmark {
    @Param({"1", "32"})
    public int batch;

    private Inference inf;
    private Batch b;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        inf = new Inference();
        b = Inference.batch(batch);
    }

    @Benchmark
    public double finsent() {
        return inf.ours(b);
    }

    @Benchmark
    public double onnxRuntime() throws Exception {
        return inf.ort(b);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        inf.close();
    }
}
