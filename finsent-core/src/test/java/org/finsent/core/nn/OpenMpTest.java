package org.finsent.core.nn;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link OpenMp#preferPassiveWaits()} in fresh JVMs (libgomp reads its environment once, when ND4J loads). The oracle
 * is libgomp itself: with {@code OMP_DISPLAY_ENV=VERBOSE} it prints the spin count it started with — 300,000 by
 * default, 0 with passive waits.
 */
class OpenMpTest {
    /** A fresh JVM: optionally loads ND4J first, optionally calls preferPassiveWaits, then runs an ND4J op. */
    public static final class Probe {
        public static void main(String[] args) {
            boolean loadFirst = args[0].equals("late"), call = !args[0].equals("none");
            if (loadFirst) org.nd4j.linalg.factory.Nd4j.create(2, 2).addi(1);
            System.out.println("outcome=" + (call ? OpenMp.preferPassiveWaits() : "not-called"));
            if (loadFirst) System.out.println("again=" + OpenMp.preferPassiveWaits());
            System.out.println("sum=" + org.nd4j.linalg.factory.Nd4j.ones(64, 64).addi(1).sumNumber());
        }
    }

    private record Run(String stdout, long spinCount) {
    }

    private static Run run(String mode, Map<String, String> env) throws IOException, InterruptedException {
        Path out = Files.createTempFile("openmp-probe", ".txt");
        try {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), Probe.class.getName(), mode));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
            pb.environment().remove("OMP_WAIT_POLICY");   // surefire sets it for the tests; the probe starts clean
            pb.environment().remove("GOMP_SPINCOUNT");
            pb.environment().put("OMP_DISPLAY_ENV", "VERBOSE");
            pb.environment().putAll(env);
            Process p = pb.start();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "probe JVM timed out");
            String text = Files.readString(out);
            assertEquals(0, p.exitValue(), text);
            assertTrue(text.contains("sum=8192"), text);
            Matcher m = Pattern.compile("GOMP_SPINCOUNT = '(\\d+)'").matcher(text);
            assertTrue(m.find(), "libgomp printed no GOMP_SPINCOUNT:\n" + text);
            return new Run(text, Long.parseLong(m.group(1)));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    @Test
    void setsPassiveWaitsBeforeNd4jLoads() throws Exception {
        Run control = run("none", Map.of());
        assertEquals(300_000, control.spinCount(), "libgomp's default spin count (the oracle must tell the cases apart)");
        Run called = run("call", Map.of());
        assertTrue(called.stdout().contains("outcome=SET"), called.stdout());
        assertEquals(0, called.spinCount(), called.stdout());
    }

    @Test
    void keepsTheUsersSettingAndReportsWhenTooLate() throws Exception {
        Run active = run("call", Map.of("OMP_WAIT_POLICY", "ACTIVE"));
        assertTrue(active.stdout().contains("outcome=USER_SETTING_KEPT"), active.stdout());
        assertTrue(active.spinCount() > 300_000, active.stdout());   // ACTIVE: libgomp's much longer spin
        Run spin = run("call", Map.of("GOMP_SPINCOUNT", "1234"));
        assertTrue(spin.stdout().contains("outcome=USER_SETTING_KEPT"), spin.stdout());
        assertEquals(1234, spin.spinCount(), spin.stdout());
        Run late = run("late", Map.of());
        assertTrue(late.stdout().contains("outcome=TOO_LATE"), late.stdout());
        assertTrue(late.stdout().contains("export OMP_WAIT_POLICY=PASSIVE"), "the warning says what to do: " + late.stdout());
        assertTrue(late.stdout().contains("again=TOO_LATE"), late.stdout());
        assertEquals(1, late.stdout().split("export OMP_WAIT_POLICY=PASSIVE", -1).length - 1, "warned once: " + late.stdout());
        assertEquals(300_000, late.spinCount(), late.stdout());
    }
}
