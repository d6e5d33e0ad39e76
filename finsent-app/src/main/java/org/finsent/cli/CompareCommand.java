package org.finsent.cli;

import org.finsent.study.StudyPresets;
import org.finsent.study.StudyReport;
import org.finsent.study.StudyRunner;
import org.finsent.train.ModelSources;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code finsent compare}: the comparative study. Trains every model × technique × data set cell with the study's
 * presets (skipping cells finished by an earlier run, resuming interrupted ones), then writes {@code results.json},
 * {@code REPORT.md} and the charts into {@code --output}.
 */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the comparative study's grid (models x techniques x data sets) with the study's settings and "
                + "write REPORT.md, results.json and charts.",
                "Re-running skips finished cells, so a long grid can be completed over several invocations."})
public final class CompareCommand implements Callable<Integer> {

    @Option(names = {"-m", "--models"}, split = ",", paramLabel = "SPEC", defaultValue = ModelSources.MINILM,
            description = "Model specs, comma-separated (default: ${DEFAULT-VALUE}).")
    List<String> models;

    @Option(names = {"-t", "--techniques"}, split = ",", paramLabel = "T", defaultValue = "full,lora,adapter,prefix",
            description = "full, lora, adapter, prefix, prompt, or PEFT ones joined with '+' (default: ${DEFAULT-VALUE}).")
    List<String> techniques;

    @Option(names = {"-d", "--data"}, split = ",", paramLabel = "SPEC", defaultValue = "fpb,tweets",
            description = "fpb[:PATH] (FinancialPhraseBank), tweets[:PATH] (Twitter Financial News), hf:takala/financial_phrasebank, "
                    + "csv:PATH, jsonl:PATH (default: ${DEFAULT-VALUE}, from $FINSENT_DATA or ../shared/data).")
    List<String> data;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", defaultValue = "study",
            description = "Study directory: one sub-directory per cell, REPORT.md, results.json, charts/ (default: ${DEFAULT-VALUE}).")
    Path output;

    @Option(names = "--gpt2-lr", paramLabel = "table|text", defaultValue = "table",
            description = "GPT-2 learning rate: the study's table (2e-5, default) or its text (2e-4).")
    String gpt2Lr;

    @Option(names = "--epochs", paramLabel = "N", description = "Quick run: epochs instead of the study's.")
    Integer epochs;

    @Option(names = "--max-steps", paramLabel = "N", description = "Quick run: optimizer steps per cell (overrides epochs).")
    Long maxSteps;

    @Option(names = "--sample", paramLabel = "N", description = "Quick run: a stratified sample of N examples per data set.")
    Integer sample;

    @Option(names = "--max-length", paramLabel = "N", description = "Truncation length in tokens (default 128).")
    Integer maxLength;

    @Option(names = "--eval-steps", paramLabel = "N", description = "Evaluate and log every N steps instead of 100.")
    Long evalSteps;

    @Option(names = {"--seed", "--seeds"}, split = ",", paramLabel = "N",
            description = "Training seeds (initialisation, dropout, data order), comma-separated (default: the study's 42). "
                    + "The split stays the study's, so every seed is tested on the same examples; seed 42 trains into the "
                    + "output directory itself, another seed N into seeds/seed-N under it. REPORT.md gives mean ± sd, "
                    + "bootstrap intervals and McNemar's tests over the seeds found.")
    List<Long> seeds;

    @Option(names = "--report-only", description = "Only rebuild REPORT.md, results.json and charts from finished cells.")
    boolean reportOnly;

    @Override
    public Integer call() throws Exception {
        var overrides = new StudyPresets.Overrides(epochs, maxSteps, sample, maxLength, evalSteps, null);
        var lr = switch (gpt2Lr.toLowerCase(Locale.ROOT)) {
            case "table" -> StudyPresets.Gpt2LearningRate.TABLE;
            case "text" -> StudyPresets.Gpt2LearningRate.TEXT;
            default -> throw new IllegalArgumentException("--gpt2-lr must be table or text, got '" + gpt2Lr + "'");
        };
        var grid = new StudyRunner.Grid(models, techniques, data, output, lr, overrides,
                seeds == null || seeds.isEmpty() ? List.of(StudyPresets.SEED) : seeds);
        int failed = 0;
        if (!reportOnly) {
            for (StudyRunner.Outcome o : new StudyRunner().run(grid)) {
                System.out.printf(Locale.ROOT, "%-8s %s%s%n", o.action(), o.dir(),
                        o.result().ok() ? String.format(Locale.ROOT, "  accuracy %.4f", o.result().test().accuracy())
                                : "  " + o.result().error());
                if (!o.result().ok()) failed++;
            }
        }
        Path report = StudyReport.write(output);
        System.out.println("report: " + report);
        if (failed > 0) {
            System.err.println("finsent compare: " + failed + " cell(s) failed; their errors are in REPORT.md and their cell.json; "
                    + "run the same command again to retry them");
            return FinSentCli.USER_ERROR;
        }
        return FinSentCli.OK;
    }
}
