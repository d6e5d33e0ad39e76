package org.finsent.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Training-report charts as PNG files: loss curves, learning-rate schedule, validation metrics (XChart line charts,
 * written with {@link BitmapEncoder}) and confusion matrices (drawn with Java2D, see
 * {@link #confusionMatrix(Path, Style, long[][], String[], boolean)} for why).
 *
 * <p>Inputs are plain data ({@link Series}, {@code long[][]}, {@code String[]}), so a trainer can call these without
 * depending on anything here but this class. Every method writes exactly the file it is given (parent directories
 * are created, nothing is appended to the name) at exactly {@link Style#width()} × {@link Style#height()} pixels,
 * and returns that path.
 *
 * <p>Rendering is headless: loading this class sets {@code java.awt.headless=true} unless the property was already
 * set, so call it before anything else touches AWT if the JVM must not open a display. Text needs at least one
 * font installed (any JDK image with fontconfig and e.g. DejaVu fonts).
 *
 * <p>Points whose x or y is NaN or infinite are left out (a diverged loss cannot be drawn); series that end up
 * empty are left out of the chart, and a chart with no points at all is written with a "no data" notice.
 */
public final class Plots {

    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    public static final int DEFAULT_WIDTH = 1000;
    public static final int DEFAULT_HEIGHT = 600;
    public static final int DEFAULT_MATRIX_WIDTH = 760;
    public static final int DEFAULT_MATRIX_HEIGHT = 640;

    /** Colours of the line charts' series, in order (Tableau 10: distinguishable, colour-blind friendlier). */
    static final Color[] SERIES_COLORS = {
            new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44), new Color(214, 39, 40),
            new Color(148, 103, 189), new Color(140, 86, 75), new Color(227, 119, 194), new Color(127, 127, 127)};

    private Plots() {
    }

    /**
     * One line: {@code y[i]} at {@code x[i]} (e.g. x = optimizer step). The arrays are copied.
     *
     * @throws IllegalArgumentException if the lengths differ or the name is blank
     */
    public record Series(String name, double[] x, double[] y) {
        public Series {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(x, "x");
            Objects.requireNonNull(y, "y");
            if (name.isBlank()) throw new IllegalArgumentException("series name is blank");
            if (x.length != y.length) {
                throw new IllegalArgumentException("series '" + name + "': " + x.length + " x values but "
                        + y.length + " y values");
            }
            x = x.clone();
            y = y.clone();
        }

        /** {@code y} against {@code 0, 1, 2, ...}. */
        public static Series of(String name, double[] y) {
            double[] x = new double[y.length];
            for (int i = 0; i < x.length; i++) x[i] = i;
            return new Series(name, x, y);
        }

        /** {@code y} against integer x, e.g. steps from a {@code long} counter. */
        public static Series of(String name, long[] x, double[] y) {
            return new Series(name, Arrays.stream(x).asDoubleStream().toArray(), y);
        }

        @Override
        public double[] x() {
            return x.clone();
        }

        @Override
        public double[] y() {
            return y.clone();
        }

        public int size() {
            return x.length;
        }

        /** The points with finite x and y. */
        Series finite() {
            int n = 0;
            for (int i = 0; i < x.length; i++) if (Double.isFinite(x[i]) && Double.isFinite(y[i])) n++;
            if (n == x.length) return this;
            double[] fx = new double[n], fy = new double[n];
            for (int i = 0, j = 0; i < x.length; i++) {
                if (Double.isFinite(x[i]) && Double.isFinite(y[i])) {
                    fx[j] = x[i];
                    fy[j++] = y[i];
                }
            }
            return new Series(name, fx, fy);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Series s && name.equals(s.name) && Arrays.equals(x, s.x) && Arrays.equals(y, s.y);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * name.hashCode() + Arrays.hashCode(x)) + Arrays.hashCode(y);
        }

        @Override
        public String toString() {
            return "Series[" + name + ", " + x.length + " points]";
        }
    }

    /** Title, axis titles and pixel size of one chart. */
    public record Style(String title, String xAxisTitle, String yAxisTitle, int width, int height) {
        public Style {
            Objects.requireNonNull(title, "title");
            Objects.requireNonNull(xAxisTitle, "xAxisTitle");
            Objects.requireNonNull(yAxisTitle, "yAxisTitle");
            if (width < 200 || height < 150 || width > 10_000 || height > 10_000) {
                throw new IllegalArgumentException("size " + width + "x" + height + " outside 200x150 .. 10000x10000");
            }
        }

        public Style withTitle(String t) {
            return new Style(t, xAxisTitle, yAxisTitle, width, height);
        }

        public Style withSize(int w, int h) {
            return new Style(title, xAxisTitle, yAxisTitle, w, h);
        }

        public static Style loss() {
            return new Style("Training and validation loss", "Step", "Cross-entropy loss", DEFAULT_WIDTH,
                    DEFAULT_HEIGHT);
        }

        public static Style learningRate() {
            return new Style("Learning-rate schedule", "Step", "Learning rate", DEFAULT_WIDTH, DEFAULT_HEIGHT);
        }

        public static Style validationMetrics() {
            return new Style("Validation metrics", "Step", "Score", DEFAULT_WIDTH, DEFAULT_HEIGHT);
        }

        /** Title "Confusion matrix" (counts) or "Confusion matrix (row-normalised)"; axes "Predicted label", "True label". */
        public static Style confusionMatrix(boolean normalised) {
            return new Style(normalised ? "Confusion matrix (row-normalised)" : "Confusion matrix",
                    "Predicted label", "True label", DEFAULT_MATRIX_WIDTH, DEFAULT_MATRIX_HEIGHT);
        }

        /**
         * As {@link #confusionMatrix(boolean)}, the title naming the examples, e.g. "Confusion matrix, test split" for
         * {@code what} = "test split".
         */
        public static Style confusionMatrix(boolean normalised, String what) {
            return confusionMatrix(normalised).withTitle("Confusion matrix, " + what + (normalised ? " (row-normalised)" : ""));
        }
    }

    // ---------------------------------------------------------------------------------------------------- (a) loss

    /** (a) Training loss (every logged step, a thin line) and validation loss (sparse, line with markers). */
    public static Path loss(Path out, Series train, Series validation) {
        return loss(out, Style.loss(), train, validation);
    }

    /** @param validation may be {@code null} or empty before the first evaluation */
    public static Path loss(Path out, Style style, Series train, Series validation) {
        XYChart chart = lossChart(style, train, validation);
        return write(out, chart, !chart.getSeriesMap().isEmpty(), style);
    }

    /** The loss chart; the training curve gets markers when it has few points (a short run's 3 steps stay visible). */
    static XYChart lossChart(Style style, Series train, Series validation) {
        Objects.requireNonNull(train, "train");
        XYChart chart = lineChart(style);
        chart.getStyler().setYAxisDecimalPattern("#,##0.0##");
        add(chart, train, 0, fewPoints(train), 1.6f);
        if (validation != null) add(chart, validation, 1, true, 2.4f);
        return chart;
    }

    /** Up to this many points a curve shows a marker at each: without one, a single point draws nothing. */
    static final int MARKER_LIMIT = 60;

    private static boolean fewPoints(Series s) {
        return s.finite().size() <= MARKER_LIMIT;
    }

    // ------------------------------------------------------------------------------------------- (b) learning rate

    /** (b) Learning rate against step; the y axis is in scientific notation (e.g. {@code 2.0E-5}). */
    public static Path learningRate(Path out, Series learningRate) {
        return learningRate(out, Style.learningRate(), learningRate);
    }

    public static Path learningRate(Path out, Style style, Series learningRate) {
        XYChart chart = learningRateChart(style, learningRate);
        return write(out, chart, !chart.getSeriesMap().isEmpty(), style);
    }

    /** The learning-rate chart; markers when the schedule has few points. */
    static XYChart learningRateChart(Style style, Series learningRate) {
        Objects.requireNonNull(learningRate, "learningRate");
        XYChart chart = lineChart(style);
        chart.getStyler().setYAxisDecimalPattern("0.0E0");
        chart.getStyler().setLegendVisible(false);
        add(chart, learningRate, 0, fewPoints(learningRate), 2.0f);
        return chart;
    }

    // -------------------------------------------------------------------------------------- (c) validation metrics

    /** (c) Validation accuracy, weighted F1 and macro F1 at the given steps (series named accordingly). */
    public static Path validationMetrics(Path out, double[] steps, double[] accuracy, double[] f1Weighted,
                                         double[] f1Macro) {
        return validationMetrics(out, Style.validationMetrics(), List.of(
                new Series("Accuracy", steps, accuracy),
                new Series("F1 (weighted)", steps, f1Weighted),
                new Series("F1 (macro)", steps, f1Macro)));
    }

    /**
     * (c) Any metrics in [0, 1], with markers at each evaluation. The y axis spans the data padded to the next
     * 0.05, clamped to [0, 1], so that close curves stay distinguishable.
     */
    public static Path validationMetrics(Path out, Style style, List<Series> metrics) {
        XYChart chart = lineChart(style);
        boolean any = false;
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < metrics.size(); i++) {
            Series s = metrics.get(i).finite();
            any |= add(chart, s, i, true, 2.2f);
            for (double v : s.y) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        if (any) {
            XYStyler st = chart.getStyler();
            double min = Math.max(0, Math.floor((lo - 0.02) * 20) / 20);
            double max = Math.min(1, Math.ceil((hi + 0.02) * 20) / 20);
            if (max - min < 0.1) {                  // a flat line: keep a readable range around it
                min = Math.max(0, Math.min(min, max - 0.1));
                max = Math.min(1, min + 0.1);
            }
            if (lo >= 0 && hi <= 1) {
                st.setYAxisMin(min);
                st.setYAxisMax(max);
            }
            st.setYAxisDecimalPattern("0.00");
        }
        // rising curves end in the top right, where an inside legend would sit: put it under the plot
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        return write(out, chart, any, style);
    }

    /** Any line chart (e.g. resource timelines); series get markers when they have at most 60 points. */
    public static Path lines(Path out, Style style, List<Series> series) {
        XYChart chart = lineChart(style);
        boolean any = false;
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i).finite();
            any |= add(chart, s, i, s.size() <= MARKER_LIMIT, 2.0f);
        }
        return write(out, chart, any, style);
    }

    // --------------------------------------------------------------------------------------- (d) confusion matrix

    /** (d) Confusion matrix with the default {@link Style#confusionMatrix(boolean)}. */
    public static Path confusionMatrix(Path out, long[][] matrix, String[] classNames, boolean rowNormalised) {
        return confusionMatrix(out, Style.confusionMatrix(rowNormalised), matrix, classNames, rowNormalised);
    }

    /**
     * (d) Confusion-matrix heat map, scikit-learn's layout: row {@code i} is true class {@code classNames[i]} (top
     * to bottom), column {@code j} the predicted class (left to right), a sequential blue colour scale with a
     * colour bar, and every cell annotated — white text on dark cells, black on light ones.
     *
     * <p>Counts: the colour scale runs from 0 to the largest count. Row-normalised: each cell is its count divided
     * by its row's total (recall on the diagonal), the scale runs from 0 to 1, and each cell shows the fraction
     * with the count beneath it; a row with no samples shows "–".
     *
     * <p>Drawn with Java2D rather than XChart's {@code HeatMapChart}: that chart annotates cells in a single font
     * colour, which is unreadable on either the darkest or the lightest cells of any sequential scale.
     *
     * @param matrix     {@code n×n} non-negative counts, {@code matrix[true][predicted]}
     * @param classNames {@code n} names, in matrix order
     */
    public static Path confusionMatrix(Path out, Style style, long[][] matrix, String[] classNames,
                                       boolean rowNormalised) {
        BufferedImage img = ConfusionMatrixImage.render(style, matrix, classNames, rowNormalised).image();
        return writeImage(out, img);
    }

    // ------------------------------------------------------------------------------------------------- internals

    static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 18);
    static final Font AXIS_TITLE_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 15);
    static final Font TICK_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
    static final Font LEGEND_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 14);

    private static XYChart lineChart(Style style) {
        XYChart chart = new XYChartBuilder().width(style.width()).height(style.height()).title(style.title())
                .xAxisTitle(style.xAxisTitle()).yAxisTitle(style.yAxisTitle()).build();
        XYStyler st = chart.getStyler();
        st.setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        st.setChartBackgroundColor(Color.WHITE);
        st.setPlotBackgroundColor(Color.WHITE);
        st.setPlotBorderColor(new Color(120, 120, 120));
        st.setPlotGridLinesColor(new Color(225, 225, 225));
        st.setPlotGridLinesStroke(new BasicStroke(1f));
        st.setChartTitleBoxVisible(false);
        st.setChartTitleFont(TITLE_FONT);
        st.setAxisTitleFont(AXIS_TITLE_FONT);
        st.setAxisTickLabelsFont(TICK_FONT);
        st.setLegendFont(LEGEND_FONT);
        st.setLegendPosition(Styler.LegendPosition.InsideNE);
        st.setLegendBorderColor(new Color(180, 180, 180));
        st.setLegendBackgroundColor(new Color(255, 255, 255, 230));
        st.setLegendSeriesLineLength(28);
        st.setChartPadding(12);
        st.setPlotMargin(6);
        st.setMarkerSize(8);
        st.setxAxisTickLabelsFormattingFunction(Plots::formatX);
        st.setXAxisTickMarkSpacingHint(90);
        st.setAntiAlias(true);
        st.setChartFontColor(new Color(30, 30, 30));
        st.setAxisTickLabelsColor(new Color(50, 50, 50));
        return chart;
    }

    /**
     * XChart 3.8 puts x ticks on every k-th data point when the union of all series' x values, in insertion order,
     * is equally spaced (steps 1..600 give ticks 1, 20, 39, ...). A disabled, legend-less series holding the
     * smallest and largest x first breaks that equal spacing, so XChart falls back to round ticks (0, 100, 200, ...).
     * It draws nothing and lies inside the data's range.
     */
    private static void roundXTicks(XYChart chart) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY, y = 0;
        for (XYSeries s : chart.getSeriesMap().values()) {
            for (int i = 0; i < s.getXData().length; i++) {
                if (s.getXData()[i] < lo) {
                    lo = s.getXData()[i];
                    y = s.getYData()[i];
                }
                hi = Math.max(hi, s.getXData()[i]);
            }
        }
        if (!(hi > lo)) return;
        Map<String, XYSeries> real = new LinkedHashMap<>(chart.getSeriesMap());
        chart.getSeriesMap().clear();                         // a LinkedHashMap: the helper must come first
        XYSeries helper = chart.addSeries(" ", new double[] {lo, hi}, new double[] {y, y});   // names are never blank
        helper.setEnabled(false);
        helper.setShowInLegend(false);
        chart.getSeriesMap().putAll(real);
    }

    private static String formatX(Double x) {
        if (x == null || !Double.isFinite(x)) return "";
        java.text.DecimalFormat f = new java.text.DecimalFormat("#,##0.##",
                java.text.DecimalFormatSymbols.getInstance(java.util.Locale.ROOT));
        return f.format(x);
    }

    /** @return whether the series had a point to draw */
    private static boolean add(XYChart chart, Series series, int colorIndex, boolean markers, float width) {
        Series s = series.finite();
        if (s.size() == 0) return false;
        Set<String> names = new HashSet<>(chart.getSeriesMap().keySet());
        if (names.contains(s.name())) throw new IllegalArgumentException("duplicate series name '" + s.name() + "'");
        XYSeries xy = chart.addSeries(s.name(), s.x, s.y);
        Color c = SERIES_COLORS[colorIndex % SERIES_COLORS.length];
        xy.setLineColor(c);
        xy.setLineWidth(width);
        xy.setMarkerColor(c);
        xy.setMarker(markers ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
        return true;
    }

    private static Path write(Path out, XYChart chart, boolean any, Style style) {
        if (!any) return writeImage(out, noData(style));
        roundXTicks(chart);
        try (OutputStream os = newOutput(out)) {
            BitmapEncoder.saveBitmap(chart, os, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out, e);
        }
        return out;
    }

    static Path writeImage(Path out, BufferedImage img) {
        try (OutputStream os = newOutput(out)) {
            if (!ImageIO.write(img, "png", os)) throw new IOException("no PNG writer");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out, e);
        }
        return out;
    }

    private static OutputStream newOutput(Path out) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        return new java.io.BufferedOutputStream(Files.newOutputStream(out));
    }

    /** A chart-sized image with the title and "no data". */
    private static BufferedImage noData(Style style) {
        BufferedImage img = new BufferedImage(style.width(), style.height(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, style.width(), style.height());
            g.setColor(new Color(30, 30, 30));
            g.setFont(TITLE_FONT);
            FontMetrics fm = g.getFontMetrics();
            g.drawString(style.title(), (style.width() - fm.stringWidth(style.title())) / 2, 12 + fm.getAscent());
            g.setFont(AXIS_TITLE_FONT);
            g.setColor(new Color(110, 110, 110));
            fm = g.getFontMetrics();
            String msg = "no data";
            g.drawString(msg, (style.width() - fm.stringWidth(msg)) / 2, style.height() / 2);
        } finally {
            g.dispose();
        }
        return img;
    }
}
