package org.finsent.cli;

import org.finsent.spark.ModelExport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code finsent export --model DIR --output OUT [--merge]}: a model directory that needs nothing else (docs/SPARK.md). */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write a self-contained copy of a fine-tuned model: what a Spark executor or any machine without "
                + "the base model (~/.m2, the hub, a local path) can load.",
                "A PEFT model is packed (its base classifier in OUT/base, the adapter files as they are; predictions "
                        + "bit-identical), or with --merge (LoRA only) merged into the base weights (a plain fine-tuned "
                        + "model, no adapter overhead; predictions equal to float rounding). A fully fine-tuned model is copied."},
        footer = {"", "Examples:", "  finsent export --model runs/lora --output runs/lora-export",
                "  finsent export --model runs/lora --output runs/lora-merged --merge",
                "Ship it to Spark executors with spark.archives (ModelExport.archive(dir), or spark-submit --archives DIR.zip#NAME); finsent score does it."})
public final class ExportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "A model directory written by finsent train.")
    Path model;

    @Option(names = "--output", required = true, paramLabel = "OUT", description = "The export directory (new or empty).")
    Path output;

    @Option(names = "--merge", description = "Fold LoRA into the base weights (LoRA models only).")
    boolean merge;

    @Override
    public Integer call() throws IOException {
        ModelExport.Result r = ModelExport.export(model, output, merge);
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "exported %s (%s, %.1f MB)%n", r.dir(), r.kind(), r.bytes() / 1e6);
        out.flush();
        return FinSentCli.OK;
    }
}
