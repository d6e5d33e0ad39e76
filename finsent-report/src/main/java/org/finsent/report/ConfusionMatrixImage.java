package org.finsent.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/** Java2D confusion-matrix heat map behind {@link Plots#confusionMatrix}; package-private so tests see the layout. */
final class ConfusionMatrixImage {

    /** matplotlib's "Blues" at 9 evenly spaced stops: luminance falls strictly from the first to the last. */
    static final Color[] BLUES = {
            new Color(247, 251, 255), new Color(222, 235, 247), new Color(198, 219, 239), new Color(158, 202, 225),
            new Color(107, 174, 214), new Color(66, 146, 198), new Color(33, 113, 181), new Color(8, 81, 156),
            new Color(8, 48, 107)};

    static final Color DARK_TEXT = new Color(25, 25, 25);
    static final Color LIGHT_TEXT = Color.WHITE;

    /** The picture and where each cell ({@code cells[true][predicted]}) and the colour bar were drawn. */
    record Rendered(BufferedImage image, Rectangle[][] cells, Rectangle colorBar) {
    }

    private ConfusionMatrixImage() {
    }

    static Rendered render(Plots.Style style, long[][] matrix, String[] classNames, boolean normalised) {
        Objects.requireNonNull(style, "style");
        Objects.requireNonNull(matrix, "matrix");
        Objects.requireNonNull(classNames, "classNames");
        int n = matrix.length;
        if (n == 0) throw new IllegalArgumentException("empty confusion matrix");
        if (classNames.length != n) {
            throw new IllegalArgumentException(n + "x" + n + " matrix but " + classNames.length + " class names");
        }
        for (int i = 0; i < n; i++) {
            if (matrix[i] == null || matrix[i].length != n) {
                throw new IllegalArgumentException("confusion matrix row " + i + " has "
                        + (matrix[i] == null ? "no" : matrix[i].length) + " columns, expected " + n);
            }
            for (long v : matrix[i]) if (v < 0) throw new IllegalArgumentException("negative count " + v);
            Objects.requireNonNull(classNames[i], "classNames[" + i + "]");
        }

        // values in colour-scale units
        double[][] value = new double[n][n];
        boolean[] emptyRow = new boolean[n];
        long maxCount = 0;
        for (int i = 0; i < n; i++) {
            long rowSum = 0;
            for (int j = 0; j < n; j++) {
                rowSum += matrix[i][j];
                maxCount = Math.max(maxCount, matrix[i][j]);
            }
            emptyRow[i] = rowSum == 0;
            for (int j = 0; j < n; j++) {
                value[i][j] = normalised ? (rowSum == 0 ? 0 : (double) matrix[i][j] / rowSum) : matrix[i][j];
            }
        }
        double vmax = normalised ? 1.0 : Math.max(1, maxCount);

        int w = style.width(), h = style.height();
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, w, h);

            int pad = Math.max(10, Math.min(w, h) / 40);
            float scale = (float) Math.max(0.7, Math.min(1.4, Math.min(w, h) / 640.0));
            Font titleFont = Plots.TITLE_FONT.deriveFont(18f * scale);
            Font axisFont = Plots.AXIS_TITLE_FONT.deriveFont(15f * scale);
            Font labelFont = Plots.TICK_FONT.deriveFont(Font.BOLD, 13f * scale);
            Font tickFont = Plots.TICK_FONT.deriveFont(12f * scale);

            // --- vertical budget: title | grid | x labels | x axis title
            g.setFont(titleFont);
            FontMetrics tfm = g.getFontMetrics();
            int top = pad + tfm.getHeight() + pad;
            g.setFont(axisFont);
            FontMetrics afm = g.getFontMetrics();
            g.setFont(labelFont);
            FontMetrics lfm = g.getFontMetrics();
            g.setFont(tickFont);
            FontMetrics kfm = g.getFontMetrics();

            // --- colour bar ticks (right side)
            List<Double> ticks = normalised ? List.of(0.0, 0.2, 0.4, 0.6, 0.8, 1.0) : niceTicks(vmax);
            int tickLabelW = 0;
            for (double t : ticks) tickLabelW = Math.max(tickLabelW, kfm.stringWidth(tickLabel(t, normalised)));
            int barW = Math.max(14, Math.round(18 * scale));
            int right = pad + tickLabelW + 6 + 5 + barW + Math.round(24 * scale);

            // --- y labels (left side), ellipsised to at most a quarter of the width
            int maxYLabel = w / 4;
            String[] yLabels = new String[n];
            int yLabelW = 0;
            for (int i = 0; i < n; i++) {
                yLabels[i] = ellipsize(classNames[i], lfm, maxYLabel);
                yLabelW = Math.max(yLabelW, lfm.stringWidth(yLabels[i]));
            }
            int left = pad + afm.getHeight() + 8 + yLabelW + 8;

            // --- the grid: square cells, as large as fits
            int availW = w - left - right;
            // x labels: horizontal if they fit their column, else rotated 40 degrees
            int bottomFixed = 8 + afm.getHeight() + pad;
            int cell = Math.max(4, Math.min(availW, h - top - bottomFixed - (lfm.getHeight() + 6)) / n);
            String[] xLabels = new String[n];
            int xLabelW = 0;
            for (int j = 0; j < n; j++) {
                xLabels[j] = ellipsize(classNames[j], lfm, maxYLabel);
                xLabelW = Math.max(xLabelW, lfm.stringWidth(xLabels[j]));
            }
            boolean rotate = xLabelW > cell - 6;
            double angle = Math.toRadians(40);
            int xLabelH = rotate
                    ? (int) Math.ceil(xLabelW * Math.sin(angle) + lfm.getHeight() * Math.cos(angle)) + 6
                    : lfm.getHeight() + 6;
            if (rotate) cell = Math.max(4, Math.min(availW, h - top - bottomFixed - xLabelH) / n);
            int grid = cell * n;
            int gx = left + Math.max(0, (availW - grid) / 2);
            int gy = top;

            // --- title, centred on the grid when that fits the image
            g.setColor(DARK_TEXT);
            g.setFont(titleFont);
            String title = ellipsize(style.title(), tfm, w - 2 * pad);
            int tx = gx + grid / 2 - tfm.stringWidth(title) / 2;
            tx = Math.max(pad, Math.min(w - pad - tfm.stringWidth(title), tx));
            g.drawString(title, tx, pad + tfm.getAscent());

            // --- cells
            Rectangle[][] cells = new Rectangle[n][n];
            Font valueFont = fitValueFont(g, matrix, normalised, cell, scale);
            Font countFont = valueFont.deriveFont(valueFont.getSize2D() * 0.72f);
            FontMetrics vfm = g.getFontMetrics(valueFont);
            FontMetrics cfm = g.getFontMetrics(countFont);
            boolean twoLines = normalised && cell >= vfm.getHeight() + cfm.getHeight() + 8;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    Rectangle r = new Rectangle(gx + j * cell, gy + i * cell, cell, cell);
                    cells[i][j] = r;
                    Color c = colorAt(value[i][j] / vmax);
                    g.setColor(c);
                    g.fillRect(r.x, r.y, r.width, r.height);
                    g.setColor(textColorOn(c));
                    String main;
                    if (!normalised) main = Long.toString(matrix[i][j]);
                    else if (emptyRow[i]) main = "\u2013";
                    else main = String.format(Locale.ROOT, "%.2f", value[i][j]);
                    int cx = r.x + r.width / 2, cy = r.y + r.height / 2;
                    if (twoLines && !emptyRow[i]) {
                        String sub = "(" + matrix[i][j] + ")";
                        int total = vfm.getAscent() + 2 + cfm.getAscent();
                        int base = cy - total / 2 + vfm.getAscent();
                        g.setFont(valueFont);
                        g.drawString(main, cx - vfm.stringWidth(main) / 2, base);
                        g.setFont(countFont);
                        g.drawString(sub, cx - cfm.stringWidth(sub) / 2, base + 2 + cfm.getAscent());
                    } else {
                        g.setFont(valueFont);
                        g.drawString(main, cx - vfm.stringWidth(main) / 2, cy + (vfm.getAscent() - vfm.getDescent()) / 2);
                    }
                }
            }
            g.setColor(new Color(90, 90, 90));
            g.setStroke(new BasicStroke(1f));
            g.drawRect(gx, gy, grid, grid);

            // --- class names
            g.setFont(labelFont);
            g.setColor(DARK_TEXT);
            for (int i = 0; i < n; i++) {
                int cy = gy + i * cell + cell / 2;
                g.drawString(yLabels[i], gx - 8 - lfm.stringWidth(yLabels[i]), cy + (lfm.getAscent() - lfm.getDescent()) / 2);
            }
            for (int j = 0; j < n; j++) {
                int cx = gx + j * cell + cell / 2;
                if (!rotate) {
                    g.drawString(xLabels[j], cx - lfm.stringWidth(xLabels[j]) / 2, gy + grid + 6 + lfm.getAscent());
                } else {
                    AffineTransform saved = g.getTransform();
                    g.translate(cx, gy + grid + 6);
                    g.rotate(-angle);
                    // right end of the text at the column centre, slanting down-left
                    g.drawString(xLabels[j], -lfm.stringWidth(xLabels[j]), lfm.getAscent());
                    g.setTransform(saved);
                }
            }

            // --- axis titles
            g.setFont(axisFont);
            String xt = style.xAxisTitle();
            g.drawString(xt, gx + grid / 2 - afm.stringWidth(xt) / 2, gy + grid + xLabelH + 4 + afm.getAscent());
            String yt = style.yAxisTitle();
            AffineTransform saved = g.getTransform();
            g.translate(pad + afm.getAscent(), gy + grid / 2 + afm.stringWidth(yt) / 2);
            g.rotate(-Math.PI / 2);
            g.drawString(yt, 0, 0);
            g.setTransform(saved);

            // --- colour bar
            int bx = gx + grid + Math.round(24 * scale);
            Rectangle bar = new Rectangle(bx, gy, barW, grid);
            for (int y = 0; y < grid; y++) {
                g.setColor(colorAt(1.0 - (double) y / Math.max(1, grid - 1)));
                g.fillRect(bx, gy + y, barW, 1);
            }
            g.setColor(new Color(90, 90, 90));
            g.drawRect(bx, gy, barW, grid);
            g.setFont(tickFont);
            for (double t : ticks) {
                int y = gy + grid - (int) Math.round(t / vmax * grid);
                g.setColor(new Color(90, 90, 90));
                g.drawLine(bx + barW, y, bx + barW + 5, y);
                g.setColor(DARK_TEXT);
                String s = tickLabel(t, normalised);
                g.drawString(s, bx + barW + 8, y + (kfm.getAscent() - kfm.getDescent()) / 2);
            }
            return new Rendered(img, cells, bar);
        } finally {
            g.dispose();
        }
    }

    /** Colour of a value in [0, 1] on {@link #BLUES}, linearly interpolated. */
    static Color colorAt(double t) {
        double u = Math.max(0, Math.min(1, Double.isFinite(t) ? t : 0)) * (BLUES.length - 1);
        int k = Math.min(BLUES.length - 2, (int) Math.floor(u));
        double f = u - k;
        Color a = BLUES[k], b = BLUES[k + 1];
        return new Color((int) Math.round(a.getRed() + f * (b.getRed() - a.getRed())),
                (int) Math.round(a.getGreen() + f * (b.getGreen() - a.getGreen())),
                (int) Math.round(a.getBlue() + f * (b.getBlue() - a.getBlue())));
    }

    /** WCAG relative luminance, 0 (black) .. 1 (white). */
    static double luminance(Color c) {
        return 0.2126 * lin(c.getRed()) + 0.7152 * lin(c.getGreen()) + 0.0722 * lin(c.getBlue());
    }

    private static double lin(int v) {
        double s = v / 255.0;
        return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    }

    /** The text colour with the higher WCAG contrast ratio against {@code background}. */
    static Color textColorOn(Color background) {
        double l = luminance(background);
        double withWhite = (1.05) / (l + 0.05);
        double withDark = (l + 0.05) / (luminance(DARK_TEXT) + 0.05);
        return withWhite > withDark ? LIGHT_TEXT : DARK_TEXT;
    }

    /** The largest value font (up to 26 pt × scale) whose widest label fits 85 % of a cell. */
    private static Font fitValueFont(Graphics2D g, long[][] m, boolean normalised, int cell,
                                     float scale) {
        String widest = normalised ? "0.00" : "0";
        for (long[] row : m) {
            for (long c : row) {
                String s = Long.toString(c);
                if (s.length() > widest.length()) widest = s;
            }
        }
        float size = Math.max(8f, Math.min(26f * scale, cell / 3.2f));
        while (size > 7f) {
            Font f = new Font(Font.SANS_SERIF, Font.PLAIN, 1).deriveFont(size);
            if (g.getFontMetrics(f).stringWidth(widest) <= cell * 0.85) return f;
            size -= 0.5f;
        }
        return new Font(Font.SANS_SERIF, Font.PLAIN, 1).deriveFont(7f);
    }

    /** At most seven round ticks from 0 to {@code max} (steps of 1, 2, 2.5 or 5 × 10^k, integers only). */
    static List<Double> niceTicks(double max) {
        double raw = max / 6;
        double mag = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1e-12))));
        double step = mag;
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            step = m * mag;
            if (step >= raw) break;
        }
        step = Math.max(1, Math.round(step));
        List<Double> out = new ArrayList<>();
        for (double t = 0; t <= max + 1e-9; t += step) out.add(t);
        return out;
    }

    private static String tickLabel(double t, boolean normalised) {
        return normalised ? String.format(Locale.ROOT, "%.1f", t) : Long.toString(Math.round(t));
    }

    private static String ellipsize(String s, FontMetrics fm, int maxWidth) {
        if (fm.stringWidth(s) <= maxWidth) return s;
        String dots = "\u2026";
        int end = s.length();
        while (end > 1 && fm.stringWidth(s.substring(0, end) + dots) > maxWidth) end--;
        return s.substring(0, end) + dots;
    }
}
