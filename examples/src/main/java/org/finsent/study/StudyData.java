package org.finsent.study;

import org.finsent.core.data.Example;
import org.finsent.core.data.Splits;
import org.finsent.train.DataSources;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A data set of the grid and the study's own held-out split of it: stratified 80 % train / 10 % validation (best
 * model selection) / 10 % test (the reported numbers), duplicate texts never straddling splits, fixed seed.
 *
 * @param name  short name used for directories and tables ({@code fpb}, {@code tweets}, ...)
 * @param spec  the spec it was loaded from
 * @param split the three splits
 */
public record StudyData(String name, String spec, Splits.Result split) {
    public static final double TRAIN_FRACTION = 0.8, VALIDATION_FRACTION = 0.1;

    /** Reads examples for a spec; {@link StudyRunner} uses this seam so tests can feed data without files. */
    @FunctionalInterface
    public interface Reader {
        List<Example> read(String spec) throws IOException;
    }

    /** Any {@link DataSources} spec: {@code fpb[:PATH]}, {@code tweets[:PATH]}, {@code hf:takala/financial_phrasebank}, ... */
    public static List<Example> read(String spec) throws IOException {
        return DataSources.load(spec, DataSources.Options.defaults()).dataset().examples();
    }

    /**
     * The name a spec gets in directories and tables: {@code fpb} or {@code tweets} for those data sets (local or
     * from the hub), else the file name without extension.
     */
    public static String kind(String spec) {
        String s = spec.strip();
        if (s.equals("hf:" + DataSources.FPB_HUB)) return "fpb";
        if (s.equals("hf:" + DataSources.TWEETS_HUB)) return "tweets";
        int colon = s.indexOf(':');
        String kind = (colon < 0 ? s : s.substring(0, colon)).toLowerCase(java.util.Locale.ROOT);
        if (kind.equals("fpb") || kind.equals("tweets")) return kind;
        if (colon < 0) throw new IllegalArgumentException("unknown data '" + spec + "': use fpb[:PATH], tweets[:PATH], csv:PATH, jsonl:PATH or hf:...");
        String file = Path.of(s.substring(colon + 1)).getFileName().toString();
        return CellResult.slug(file.contains(".") ? file.substring(0, file.lastIndexOf('.')) : file);
    }

    /** Reads, optionally takes a stratified sample of {@code sampleSize} examples, and splits 80/10/10. */
    public static StudyData load(Reader reader, String spec, Integer sampleSize, long seed) throws IOException {
        List<Example> all = reader.read(spec);
        if (all.isEmpty()) throw new IOException(spec + ": no examples");
        if (sampleSize != null && sampleSize < all.size()) {
            all = Splits.stratified(all, (double) sampleSize / all.size(), 0, seed).train();
        }
        return new StudyData(kind(spec), spec, Splits.stratified(all, TRAIN_FRACTION, VALIDATION_FRACTION, seed));
    }
}
