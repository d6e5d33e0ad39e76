package org.finsent.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.finsent.report.Plots.Series;
import org.finsent.report.Plots.Style;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotsTest {

    static final String[] CLASSES = {"negative", "neutral", "positive"};
    /** FinancialPhraseBank-like: most mass on "neutral"; every count distinct. */
    static final long[][] MATRIX = {{110, 25, 6}, {14, 520, 42}, {9, 61, 183}};

    // ----------------------------------------------------------------------------------------- synthetic run data

    /** A plausible fine-tuning run: 600 steps, noisy decaying train loss, evaluation every 50 steps. */
    static final class Run {
        final double[] steps = new double[600], trainLoss = new double[600], lr = new double[600];
        final double[] evalSteps = new double[12], valLoss = new double[12], acc = new double[12],
                f1w = new double[12], f1m = new double[12];

        Run() {
            Random r = new Random(7);
            for (int i = 0; i < 600; i++) {
                steps[i] = i + 1;
                trainLoss[i] = 0.35 + 0.75 * Math.exp(-i / 120.0) + 0.12 * r.nextGaussian() * Math.exp(-i / 400.0);
                lr[i] = i < 60 ? 2e-5 * (i + 1) / 60 : 2e-5 * (600 - i) / 540.0;   // linear warm-up + decay
            }
            for (int k = 0; k < 12; k++) {
                evalSteps[k] = 50 * (k + 1);
                valLoss[k] = 0.45 + 0.6 * Math.exp(-evalSteps[k] / 150.0) + (k > 8 ? 0.02 * (k - 8) : 0);
                acc[k] = 0.86 - 0.25 * Math.exp(-evalSteps[k] / 120.0);
                f1w[k] = acc[k] - 0.01;
                f1m[k] = acc[k] - 0.05 - 0.1 * Math.exp(-evalSteps[k] / 200.0);
            }
        }
    }

    // --------------------------------------------------------------------------------------------------- helpers

    static BufferedImage readPng(Path p) throws IOException {
        byte[] head = new byte[8];
        try (var in = Files.newInputStream(p)) {
            assertEquals(8, in.read(head));
        }
        assertEquals(0x89, head[0] & 0xff, "PNG signature");
        assertEquals("PNG", new String(head, 1, 3, java.nio.charset.StandardCharsets.US_ASCII));
        BufferedImage img = ImageIO.read(p.toFile());
        assertTrue(img != null, "ImageIO can decode " + p);
        return img;
    }

    static double luma(int rgb) {
        return 0.299 * ((rgb >> 16) & 0xff) + 0.587 * ((rgb >> 8) & 0xff) + 0.114 * (rgb & 0xff);
    }

    /** Not blank: real luminance variance and a real share of non-background pixels. */
    static void assertNotBlank(BufferedImage img) {
        double sum = 0, sq = 0;
        long nonWhite = 0, n = (long) img.getWidth() * img.getHeight();
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                double l = luma(img.getRGB(x, y));
                sum += l;
                sq += l * l;
                if (l < 240) nonWhite++;
            }
        }
        double mean = sum / n, sd = Math.sqrt(Math.max(0, sq / n - mean * mean));
        assertTrue(sd > 8, "luminance sd " + sd);
        assertTrue(nonWhite > n / 200, "non-background pixels " + nonWhite + " of " + n);
    }

    /** Pixels within a small distance of a colour (series lines are antialiased). */
    static long count(BufferedImage img, Color c, int tol) {
        long k = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int p = img.getRGB(x, y);
                if (Math.abs(((p >> 16) & 0xff) - c.getRed()) <= tol && Math.abs(((p >> 8) & 0xff) - c.getGreen()) <= tol
                        && Math.abs((p & 0xff) - c.getBlue()) <= tol) k++;
            }
        }
        return k;
    }

    static Color series(int i) {
        return Plots.SERIES_COLORS[i];
    }

    // ----------------------------------------------------------------------------------------------------- tests

    @Test
    void lineChartsAreValidPngsOfTheRequestedSizeWithEverySeriesDrawn(@TempDir Path dir) throws IOException {
        Run run = new Run();
        Path loss = Plots.loss(dir.resolve("a/loss.png"), Style.loss().withSize(900, 500),
                new Series("train", run.steps, run.trainLoss), new Series("validation", run.evalSteps, run.valLoss));
        Path lr = Plots.learningRate(dir.resolve("lr.png"), Style.learningRate().withSize(640, 400),
                new Series("learning rate", run.steps, run.lr));
        Path metrics = Plots.validationMetrics(dir.resolve("metrics.png"), run.evalSteps, run.acc, run.f1w, run.f1m);

        assertEquals(dir.resolve("a/loss.png"), loss, "exactly the path given, parents created");
        BufferedImage l = readPng(loss);
        assertEquals(900, l.getWidth());
        assertEquals(500, l.getHeight());
        assertNotBlank(l);
        assertTrue(count(l, series(0), 30) > 500, "train line drawn");
        assertTrue(count(l, series(1), 30) > 200, "validation line and markers drawn");

        BufferedImage r = readPng(lr);
        assertEquals(640, r.getWidth());
        assertEquals(400, r.getHeight());
        assertNotBlank(r);
        assertTrue(count(r, series(0), 30) > 300, "learning-rate line drawn");

        BufferedImage m = readPng(metrics);
        assertEquals(Plots.DEFAULT_WIDTH, m.getWidth());
        assertEquals(Plots.DEFAULT_HEIGHT, m.getHeight());
        assertNotBlank(m);
        for (int i = 0; i < 3; i++) assertTrue(count(m, series(i), 30) > 200, "metric " + i + " drawn");
    }

    @Test
    void heatMapIsAValidPngOfTheRequestedSize(@TempDir Path dir) throws IOException {
        for (boolean norm : new boolean[] {false, true}) {
            Path p = Plots.confusionMatrix(dir.resolve("cm-" + norm + ".png"),
                    Style.confusionMatrix(norm).withSize(700, 560), MATRIX, CLASSES, norm);
            BufferedImage img = readPng(p);
            assertEquals(700, img.getWidth());
            assertEquals(560, img.getHeight());
            assertNotBlank(img);
        }
    }

    /**
     * Golden properties of the counts heat map, read back from the PNG file: cell colour darkens strictly with the
     * count (so the darkest cell is the largest count, at [neutral][neutral]), the text in the darkest cell is light
     * and in the lightest cell dark (readable), and every class name is drawn beside its row.
     */
    @Test
    void heatMapDarkestCellIsTheLargestCountAndAnnotationsContrast(@TempDir Path dir) throws IOException {
        Style style = Style.confusionMatrix(false);
        Path p = Plots.confusionMatrix(dir.resolve("cm.png"), style, MATRIX, CLASSES, false);
        BufferedImage img = readPng(p);
        Rectangle[][] cells = ConfusionMatrixImage.render(style, MATRIX, CLASSES, false).cells();

        int n = MATRIX.length;
        double[][] cellLuma = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                Rectangle c = cells[i][j];
                cellLuma[i][j] = luma(img.getRGB(c.x + 3, c.y + 3));      // a corner: background, not text
            }
        }
        int[] darkest = argmin(cellLuma);
        assertEquals(1, darkest[0], "darkest row");
        assertEquals(1, darkest[1], "darkest column: [neutral][neutral] = 520, the largest count");
        for (int a = 0; a < n * n; a++) {
            for (int b = 0; b < n * n; b++) {
                long ca = MATRIX[a / n][a % n], cb = MATRIX[b / n][b % n];
                if (ca > cb) {
                    assertTrue(cellLuma[a / n][a % n] < cellLuma[b / n][b % n],
                            "count " + ca + " must be darker than " + cb);
                }
            }
        }
        // text contrast: light glyph pixels on the darkest cell, dark glyph pixels on the lightest cell (6 = 6)
        assertTrue(extremeInCentre(img, cells[1][1], true) > 230, "white-ish digits on the dark cell");
        assertTrue(extremeInCentre(img, cells[0][2], false) < 60, "dark digits on the light cell");
        // class names: ink left of each row and below each column
        for (int i = 0; i < n; i++) {
            Rectangle c = cells[i][0];
            assertTrue(minLuma(img, new Rectangle(c.x - 80, c.y + c.height / 3, 75, c.height / 3)) < 80, "row label " + i);
            Rectangle d = cells[n - 1][i];
            assertTrue(minLuma(img, new Rectangle(d.x, d.y + d.height + 2, d.width, 24)) < 80, "column label " + i);
        }
    }

    /** Row normalisation changes which cell is darkest: the largest fraction, not the largest count. */
    @Test
    void rowNormalisedHeatMapColoursByRowFraction(@TempDir Path dir) throws IOException {
        long[][] m = {{50, 0, 0}, {100, 300, 200}, {10, 20, 70}};   // largest count [1][1]; largest fraction [0][0] = 1.0
        Style style = Style.confusionMatrix(true);
        BufferedImage counts = readPng(Plots.confusionMatrix(dir.resolve("c.png"), m, CLASSES, false));
        BufferedImage norm = readPng(Plots.confusionMatrix(dir.resolve("n.png"), style, m, CLASSES, true));
        Rectangle[][] cc = ConfusionMatrixImage.render(Style.confusionMatrix(false), m, CLASSES, false).cells();
        Rectangle[][] nc = ConfusionMatrixImage.render(style, m, CLASSES, true).cells();
        assertEquals(List.of(1, 1), List.of(argmin(corners(counts, cc))[0], argmin(corners(counts, cc))[1]));
        int[] dn = argmin(corners(norm, nc));
        assertEquals(List.of(0, 0), List.of(dn[0], dn[1]));
        // the fraction 1.0 gets the scale's darkest colour, a zero cell its lightest
        Color top = ConfusionMatrixImage.BLUES[ConfusionMatrixImage.BLUES.length - 1];
        assertEquals(top.getRGB(), norm.getRGB(nc[0][0].x + 3, nc[0][0].y + 3));
        assertEquals(ConfusionMatrixImage.BLUES[0].getRGB(), norm.getRGB(nc[0][1].x + 3, nc[0][1].y + 3));
    }

    @Test
    void colourScaleAndTextColourRules() {
        double prev = 2;
        for (int k = 0; k <= 100; k++) {
            double l = ConfusionMatrixImage.luminance(ConfusionMatrixImage.colorAt(k / 100.0));
            assertTrue(l < prev, "luminance strictly falls along the scale");
            prev = l;
        }
        assertEquals(ConfusionMatrixImage.LIGHT_TEXT, ConfusionMatrixImage.textColorOn(ConfusionMatrixImage.colorAt(1)));
        assertEquals(ConfusionMatrixImage.DARK_TEXT, ConfusionMatrixImage.textColorOn(ConfusionMatrixImage.colorAt(0)));
        assertEquals(List.of(0.0, 100.0, 200.0, 300.0, 400.0, 500.0), ConfusionMatrixImage.niceTicks(520));
        assertEquals(List.of(0.0, 1.0), ConfusionMatrixImage.niceTicks(1));
    }

    @Test
    void degenerateInputs(@TempDir Path dir) throws IOException {
        // no validation yet, NaN losses dropped, and an entirely empty chart still yields a readable image
        Path p = Plots.loss(dir.resolve("l.png"), new Series("train", new double[] {1, 2, 3}, new double[] {1, Double.NaN, 0.5}),
                null);
        assertNotBlank(readPng(p));
        BufferedImage empty = readPng(Plots.learningRate(dir.resolve("e.png"), new Series("lr", new double[0], new double[0])));
        assertEquals(Plots.DEFAULT_WIDTH, empty.getWidth());
        // a single evaluation: one point per metric, one x value
        assertNotBlank(readPng(Plots.validationMetrics(dir.resolve("one.png"), new double[] {10}, new double[] {0.7},
                new double[] {0.68}, new double[] {0.6})));
        // one class, all zeros, long names: no division by zero, no exception
        Plots.confusionMatrix(dir.resolve("z.png"), new long[][] {{0}}, new String[] {"x"}, true);
        Plots.confusionMatrix(dir.resolve("long.png"), MATRIX,
                new String[] {"a very long class name indeed", "neutral", "positive"}, false);

        assertThrows(IllegalArgumentException.class, () -> new Series("s", new double[2], new double[3]));
        assertThrows(IllegalArgumentException.class,
                () -> Plots.confusionMatrix(dir.resolve("x.png"), MATRIX, new String[] {"a", "b"}, false));
        assertThrows(IllegalArgumentException.class,
                () -> Plots.confusionMatrix(dir.resolve("x.png"), new long[][] {{1, 2}, {3}}, new String[] {"a", "b"}, false));
        assertThrows(IllegalArgumentException.class,
                () -> Plots.lines(dir.resolve("x.png"), Style.loss(), List.of(Series.of("a", new double[] {1}),
                        Series.of("a", new double[] {2}))));
        double[] x = {1, 2};
        Series s = new Series("s", x, new double[] {3, 4});
        x[0] = 99;
        assertEquals(1, s.x()[0], "defensive copy");
        assertNotEquals(s, new Series("s", new double[] {1, 2}, new double[] {3, 5}));
    }

    /**
     * Writes every chart with realistic data to {@code <repo>/target/plots-preview/} for a human to look at (the
     * repository root comes from surefire's {@code finsent.repo.root}); checks only that they were written.
     */
    @Test
    void writePreviews() throws IOException {
        Path root = Path.of(System.getProperty("finsent.repo.root", "."));
        Path out = root.resolve("target/plots-preview");
        Run run = new Run();
        List<Path> written = List.of(
                Plots.loss(out.resolve("loss.png"), new Series("train", run.steps, run.trainLoss),
                        new Series("validation", run.evalSteps, run.valLoss)),
                Plots.learningRate(out.resolve("learning-rate.png"), new Series("learning rate", run.steps, run.lr)),
                Plots.validationMetrics(out.resolve("validation-metrics.png"), run.evalSteps, run.acc, run.f1w, run.f1m),
                Plots.confusionMatrix(out.resolve("confusion-matrix.png"), MATRIX, CLASSES, false),
                Plots.confusionMatrix(out.resolve("confusion-matrix-normalised.png"), MATRIX, CLASSES, true),
                Plots.confusionMatrix(out.resolve("confusion-matrix-small-longnames.png"),
                        Style.confusionMatrix(false).withSize(420, 360), new long[][] {{3, 1, 0, 0}, {2, 40, 5, 1},
                                {0, 4, 1234, 7}, {0, 0, 9, 88}},
                        new String[] {"strongly bearish", "bearish", "neutral", "bullish"}, false));
        for (Path p : written) assertTrue(Files.size(p) > 1000, p.toString());
    }

    // ----------------------------------------------------------------------------------------------- more helpers

    static int[] argmin(double[][] a) {
        int bi = 0, bj = 0;
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a[i].length; j++) if (a[i][j] < a[bi][bj]) { bi = i; bj = j; }
        return new int[] {bi, bj};
    }

    static double[][] corners(BufferedImage img, Rectangle[][] cells) {
        double[][] l = new double[cells.length][cells.length];
        for (int i = 0; i < cells.length; i++) for (int j = 0; j < cells.length; j++) l[i][j] = luma(img.getRGB(cells[i][j].x + 3, cells[i][j].y + 3));
        return l;
    }

    static double minLuma(BufferedImage img, Rectangle r) {
        double m = 255;
        for (int y = Math.max(0, r.y); y < Math.min(img.getHeight(), r.y + r.height); y++) {
            for (int x = Math.max(0, r.x); x < Math.min(img.getWidth(), r.x + r.width); x++) m = Math.min(m, luma(img.getRGB(x, y)));
        }
        return m;
    }

    /** Brightest (or darkest) pixel in the middle third of a cell, where the value is written. */
    static double extremeInCentre(BufferedImage img, Rectangle c, boolean brightest) {
        double e = brightest ? 0 : 255;
        for (int y = c.y + c.height / 3; y < c.y + 2 * c.height / 3; y++) {
            for (int x = c.x + c.width / 4; x < c.x + 3 * c.width / 4; x++) {
                double l = luma(img.getRGB(x, y));
                e = brightest ? Math.max(e, l) : Math.min(e, l);
            }
        }
        return e;
    }

    @Test
    void aShortRunsCurvesShowTheirPoints(@TempDir Path dir) throws IOException {
        // one logged step: a line through one point draws nothing, so the point needs a marker (no legend here)
        BufferedImage one = readPng(Plots.learningRate(dir.resolve("lr1.png"), new Series("learning rate", new double[]{3},
                new double[]{3e-3})));
        assertTrue(count(one, series(0), 30) > 20, "the single learning-rate point is drawn");
        var few = Plots.lossChart(Style.loss(), new Series("train", new double[]{1, 2, 3}, new double[]{1.1, 1.0, 0.9}), null);
        assertTrue(few.getSeriesMap().get("train").getMarker() != org.knowm.xchart.style.markers.SeriesMarkers.NONE,
                "3 points get markers");
        double[] x = new double[500], y = new double[500];
        for (int i = 0; i < x.length; i++) {
            x[i] = i + 1;
            y[i] = 1.0 / (i + 1);
        }
        var many = Plots.lossChart(Style.loss(), new Series("train", x, y), null);
        assertEquals(org.knowm.xchart.style.markers.SeriesMarkers.NONE, many.getSeriesMap().get("train").getMarker(),
                "a long curve stays a line");
    }

    @Test
    void confusionMatrixTitlesNameTheirSplit() {
        assertEquals("Confusion matrix, validation split", Style.confusionMatrix(false, RunReporter.splitOf("")).title());
        assertEquals("Confusion matrix, test split (row-normalised)", Style.confusionMatrix(true, RunReporter.splitOf("test_")).title());
        assertEquals("validation split", RunReporter.splitOf("eval_"));
    }
}
