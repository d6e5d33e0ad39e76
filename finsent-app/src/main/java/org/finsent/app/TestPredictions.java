package org.finsent.app;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * True labels and predictions of a run's held-out test split, in the split's order: {@value #FILE}, one
 * {@code index,label,prediction} row (label ids) per example. {@link FineTuning} writes it beside
 * {@code test_metrics.json}, so the study's statistics are recomputed from files, not from memory.
 */
public record TestPredictions(int[] labels, int[] predicted) {
    public static final String FILE = "test_predictions.csv";
    private static final String HEADER = "index,label,prediction";

    public TestPredictions {
        if (labels.length != predicted.length) throw new IllegalArgumentException("labels and predictions differ in length");
    }

    public void write(Path dir) throws IOException {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (int i = 0; i < labels.length; i++) sb.append(i).append(',').append(labels[i]).append(',').append(predicted[i]).append('\n');
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(FILE), sb, StandardCharsets.UTF_8);
    }

    /** The run's predictions, or null when it wrote none (runs from before the file existed). */
    public static TestPredictions read(Path dir) throws IOException {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) return null;
        List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
        if (lines.isEmpty() || !lines.get(0).strip().equals(HEADER)) throw new IOException(f + ": not a predictions file (header " + HEADER + " expected)");
        int n = lines.size() - 1;
        int[] y = new int[n], p = new int[n];
        for (int i = 0; i < n; i++) {
            String[] c = lines.get(i + 1).split(",");
            try {
                if (c.length != 3 || Integer.parseInt(c[0].strip()) != i) throw new NumberFormatException();
                y[i] = Integer.parseInt(c[1].strip());
                p[i] = Integer.parseInt(c[2].strip());
            } catch (NumberFormatException e) {
                throw new IOException(f + ": bad row " + (i + 2) + ": " + lines.get(i + 1));
            }
        }
        return new TestPredictions(y, p);
    }
}
