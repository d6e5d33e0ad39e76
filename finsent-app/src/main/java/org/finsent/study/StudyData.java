package org.finsent.study;

import org.finsent.train.DataSources;

import java.nio.file.Path;

/**
 * The grid's data sets: their short names, and the study's own held-out split — stratified 80 % train / 10 %
 * validation (best model selection) / 10 % test (the reported numbers), duplicate texts never straddling splits,
 * seed {@link StudyPresets#SEED} — which {@link org.finsent.app.FineTuning} makes.
 */
public final class StudyData {
    private StudyData() {
    }

    public static final double TRAIN_FRACTION = 0.8, VALIDATION_FRACTION = 0.1;

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
}
