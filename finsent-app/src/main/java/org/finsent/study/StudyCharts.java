package org.finsent.study;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;

/**
 * Grouped bar charts across techniques (one group per technique, one bar colour per model), with the same look as
 * {@link org.finsent.report.Plots}' line charts: white background, light grid, sans-serif fonts, colour-blind-safe
 * palette, and each bar annotated with its value.
 */
final class StudyCharts {
    private StudyCharts() {
    }

    /** Okabe–Ito: distinguishable with the common colour-vision deficiencies. */
    private static final Color[] PALETTE = {new Color(0, 114, 178), new Color(230, 159, 0), new Color(0, 158, 115),
            new Color(204, 121, 167), new Color(86, 180, 233), new Color(213, 94, 0)};

    /**
     * @param values      series name (a model) → one value per technique, NaN where that cell is missing
     * @param reference   an extra series drawn last (the study's numbers), or null
     * @param valueFormat a {@link java.text.DecimalFormat} pattern for the bars' annotations
     * @param yMin        the y axis' lower end, or null for automatic
     */
    static Path bars(Path out, String title, String yTitle, List<String> techniques, Map<String, double[]> values,
                     Map.Entry<String, double[]> reference, String valueFormat, Double yMin, Double yMax,
                     boolean logY, DoubleUnaryOperator scale) throws IOException {
        CategoryChart chart = new CategoryChartBuilder().width(1000).height(560).title(title)
                .xAxisTitle("technique").yAxisTitle(yTitle).build();
        var st = chart.getStyler();
        st.setChartBackgroundColor(Color.WHITE);
        st.setPlotBackgroundColor(Color.WHITE);
        st.setPlotBorderColor(new Color(120, 120, 120));
        st.setPlotGridLinesColor(new Color(225, 225, 225));
        st.setPlotGridLinesStroke(new BasicStroke(1f));
        st.setPlotGridVerticalLinesVisible(false);
        st.setChartTitleBoxVisible(false);
        st.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        st.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 15));
        st.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        st.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        st.setLegendPosition(Styler.LegendPosition.OutsideS);
        st.setLegendLayout(Styler.LegendLayout.Horizontal);
        st.setLegendBorderColor(new Color(180, 180, 180));
        st.setChartPadding(12);
        st.setAvailableSpaceFill(0.8);
        st.setLabelsVisible(true);
        st.setLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        st.setLabelsFontColorAutomaticEnabled(true); // white on dark bars, black on light ones
        st.setLabelsPosition(0.97); // just inside the bar's top
        st.setDecimalPattern(valueFormat); // the bar labels' format
        st.setYAxisLogarithmic(logY);
        if (logY && yMin == null) yMin = logFloor(values); // bars grow from the axis' lower end, which must be > 0
        if (yMin != null) st.setYAxisMin(yMin);
        if (yMax != null) st.setYAxisMax(yMax);
        List<Color> colours = new ArrayList<>();
        int i = 0;
        for (Map.Entry<String, double[]> e : values.entrySet()) {
            chart.addSeries(e.getKey(), techniques, scaled(e.getValue(), scale));
            colours.add(PALETTE[i++ % PALETTE.length]);
        }
        if (reference != null) {
            chart.addSeries(reference.getKey(), techniques, scaled(reference.getValue(), scale));
            colours.add(new Color(150, 150, 150));
        }
        st.setSeriesColors(colours.toArray(Color[]::new));
        Files.createDirectories(out.toAbsolutePath().getParent());
        BitmapEncoder.saveBitmap(chart, out.toString(), BitmapEncoder.BitmapFormat.PNG); // adds ".png" if missing
        return out;
    }

    private static double logFloor(Map<String, double[]> values) {
        double min = Double.POSITIVE_INFINITY;
        for (double[] v : values.values()) for (double x : v) if (x > 0) min = Math.min(min, x);
        return Double.isInfinite(min) ? 1 : Math.pow(10, Math.floor(Math.log10(min)) - 0.5);
    }

    /** XChart draws no bar for null; NaN (a missing cell) becomes null. */
    private static List<Double> scaled(double[] v, DoubleUnaryOperator scale) {
        List<Double> out = new ArrayList<>(v.length);
        for (double x : v) out.add(Double.isNaN(x) ? null : scale.applyAsDouble(x));
        return out;
    }
}
