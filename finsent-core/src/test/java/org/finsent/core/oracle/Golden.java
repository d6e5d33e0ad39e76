package org.finsent.core.oracle;

import org.finsent.core.io.SafeTensors;
import org.finsent.core.io.StateDict;
import org.finsent.core.io.TensorData;
import org.finsent.core.nn.Parameter;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The committed golden vectors ({@code <repo root>/golden}, written by PyTorch / Transformers / PEFT /
 * scikit-learn, see golden/README.md) and the comparison every golden test uses.
 */
public final class Golden {
    private Golden() {
    }

    /**
     * FP64 tolerance: both sides compute the same FP64 expressions in a different order (BLAS blocking, summation
     * order), so differences are a few ulps amplified by the depth of the network, far below 1e-10 of the scale.
     */
    public static final double FP64 = 1e-10;

    /**
     * {@code $FINSENT_GOLDEN}, else {@code <finsent.repo.root>/golden}. The folder is committed, so its absence is a
     * broken checkout and fails the test (never a skip).
     */
    public static Path root() {
        String env = System.getenv("FINSENT_GOLDEN");
        Path dir = env != null && !env.isBlank() ? Path.of(env)
                : Path.of(System.getProperty("finsent.repo.root", System.getProperty("user.dir"))).toAbsolutePath().normalize().resolve("golden");
        if (!Files.isRegularFile(dir.resolve("manifest.json"))) {
            fail("golden vectors not found at " + dir + " (they are committed under <repo>/golden; set FINSENT_GOLDEN to override)");
        }
        return dir;
    }

    /** A case's folder, which must exist. */
    public static Path dir(String name) {
        Path d = root().resolve(name);
        if (!Files.isDirectory(d)) fail("golden case missing: " + d);
        return d;
    }

    public static StateDict read(Path file) {
        try {
            return SafeTensors.read(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code [B, T]} integer tensor as int rows. */
    public static int[][] intRows(TensorData t) {
        long[] v = t.toLongs();
        int b = (int) t.dim(0), n = (int) t.dim(1);
        int[][] out = new int[b][n];
        for (int i = 0; i < b; i++) for (int j = 0; j < n; j++) out[i][j] = Math.toIntExact(v[i * n + j]);
        return out;
    }

    public static int[] ints(TensorData t) {
        return Arrays.stream(t.toLongs()).mapToInt(Math::toIntExact).toArray();
    }

    /** Largest |x|. */
    public static double maxAbs(double[] x) {
        double m = 0;
        for (double v : x) m = Math.max(m, Math.abs(v));
        return m;
    }

    /**
     * Scale-aware comparison: {@code max|ours − golden| ≤ tol · max|golden|} (the whole tensor's scale, so entries
     * that are near zero by cancellation are not held to a relative bound they cannot meet). Returns the error
     * relative to the scale, for reports. Shapes must agree element count.
     */
    public static double assertClose(String what, double[] golden, double[] ours, double tol) {
        if (golden.length != ours.length) fail(what + ": " + ours.length + " values, golden has " + golden.length);
        double scale = maxAbs(golden) == 0 ? 1 : maxAbs(golden);
        double err = 0;
        int at = -1;
        for (int i = 0; i < golden.length; i++) {
            if (!Double.isFinite(ours[i])) fail(what + ": non-finite value at " + i);
            double d = Math.abs(golden[i] - ours[i]);
            if (d > err) {
                err = d;
                at = i;
            }
        }
        double rel = err / scale;
        int worst = at;
        double absDiff = err;
        assertTrue(rel <= tol, () -> String.format("%s: max |diff| %.3e at %d (golden %.17g, ours %.17g) is %.3e of the scale %.3e > %.1e",
                what, absDiff, worst, worst < 0 ? 0 : golden[worst], worst < 0 ? 0 : ours[worst], rel, scale, tol));
        return rel;
    }

    /** {@link #assertClose(String, double[], double[], double)} for an ND4J array against a golden tensor. */
    public static double assertClose(String what, TensorData golden, INDArray ours, double tol) {
        assertEquals(golden.numel(), ours.length(), what + ": element count");
        return assertClose(what, golden.toDoubles(), ours.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).dup('c').data().asDouble(), tol);
    }

    /**
     * Every golden gradient has a parameter of that name whose gradient agrees, and every trainable parameter of
     * ours has a golden gradient ({@code golden} is keyed by our names). Returns the largest error relative to the
     * tensors' scales. BERT's {@code attention.self.key.bias} gradient is zero in exact arithmetic (adding a
     * constant to every key adds {@code q·b} to a whole softmax row, which softmax ignores), so both sides hold
     * round-off (~1e-22) that no relative bound can compare: it must be below {@code tol} of the key weight's
     * gradient instead.
     */
    public static double assertGradients(String what, Collection<Parameter> ours, StateDict golden, double tol) {
        Map<String, Parameter> byName = new LinkedHashMap<>();
        for (Parameter p : ours) if (p.trainable()) byName.put(p.name(), p);
        assertEquals(new TreeSet<>(golden.names()), new TreeSet<>(byName.keySet()),
                what + ": parameters with a gradient (golden vs ours)");
        double worst = 0;
        List<String> zero = new ArrayList<>();
        for (TensorData g : golden) {
            Parameter p = byName.get(g.name());
            assertArrayEquals(g.shape(), p.value().shape(), g.name());
            if (g.name().endsWith("attention.self.key.bias")) {
                zero.add(g.name());
                continue;
            }
            worst = Math.max(worst, assertClose(what + " grad " + g.name(), g, p.grad(), tol));
        }
        for (String k : zero) { // analytically zero (see above): both sides must be round-off only
            double scale = maxAbs(golden.require(k.replace(".bias", ".weight")).toDoubles());
            double gMax = maxAbs(golden.require(k).toDoubles());
            double ourMax = maxAbs(byName.get(k).grad().dup().data().asDouble());
            assertTrue(gMax <= tol * scale && ourMax <= tol * scale, what + " " + k + ": golden " + gMax + ", ours " + ourMax
                    + " should be round-off next to the key weight's gradient " + scale);
        }
        return worst;
    }
}
