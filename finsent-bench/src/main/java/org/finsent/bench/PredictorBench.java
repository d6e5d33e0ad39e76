package org.finsent.bench;

import org.finsent.core.data.Example;
import org.finsent.core.data.FinancialPhraseBank;
import org.finsent.train.FineTunedModel;
import org.finsent.train.Predictor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * {@code Compare predictor MODEL_DIR}: a fine-tuned model's {@link Predictor} alone, in this thread, with no server —
 * the references {@code finsent serve}'s load test is held against (docs/BENCHMARKS.md, "finsent serve: load
 * test"). Batch 1: {@code predict(text)} on the first FinancialPhraseBank dev sentence of at most
 * {@value #SHORT_WORDS} words (the load script's one-connection text); median and p99 of single calls. Batch 32:
 * {@code predict} on consecutive chunks of 32 dev sentences in file order (the texts the script's 16 connections
 * cycle through), texts per second of each pass over {@value #CHUNKS} chunks; the same in chunks of 16 (what 16
 * clients can fill). Both include tokenization and the
 * softmax, as the service's calls do.
 */
public final class PredictorBench {
    static final int SHORT_WORDS = 8, CHUNKS = 20, BATCH = 32, WARM_UP_S = 3;

    private PredictorBench() {
    }

    /** Runs {@code task} for {@value #WARM_UP_S} s (serve-wrk.sh warms the server up for as long before it measures). */
    static void warmUp(Compare.Task task) throws Exception {
        long end = System.nanoTime() + WARM_UP_S * 1_000_000_000L;
        while (System.nanoTime() < end) task.run();
    }

    /** The FinancialPhraseBank dev sentences in file order. */
    static List<String> fpbTexts() throws Exception {
        Path f = BenchData.shared().resolve("data/financial_phrasebank/Sentences_50Agree.dev.txt");
        if (!Files.isRegularFile(f)) throw new IllegalStateException("FinancialPhraseBank dev file not found: " + f);
        return FinancialPhraseBank.read(f).examples().stream().map(Example::text).toList();
    }

    /** The first sentence of at most {@value #SHORT_WORDS} words. */
    static String shortText(List<String> texts) {
        return texts.stream().filter(t -> t.trim().split("\\s+").length <= SHORT_WORDS).findFirst()
                .orElseThrow(() -> new IllegalStateException("no sentence of at most " + SHORT_WORDS + " words"));
    }

    public static void run(String[] args) throws Exception {
        if (args.length < 2) throw new IllegalArgumentException("usage: Compare predictor MODEL_DIR [calls [URL]]");
        int calls = args.length > 2 ? Integer.parseInt(args[2]) : Compare.QUICK ? 400 : 1000;
        FineTunedModel m = FineTunedModel.load(Path.of(args[1]));
        Predictor p = new Predictor(m.model(), m.tokenizer(), m.labels(), m.maxSeqLength(), BATCH);
        List<String> texts = fpbTexts();
        String one = shortText(texts);
        System.out.printf("PREDICTOR model %s (%s, max %d tokens), short text \"%s\"%n", args[1], m.info().baseModel(),
                m.maxSeqLength(), one);

        warmUp(() -> p.predict(one)); // JIT, workspace: as long as the load script's warm-up
        double[] ms = new double[calls];
        for (int i = 0; i < calls; i++) {
            long t0 = System.nanoTime();
            p.predict(one);
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        System.out.printf("PREDICTOR batch 1: median %.2f ms, p10 %.2f, p90 %.2f, p99 %.2f ms (%d calls)%n",
                ms[calls / 2], ms[calls / 10], ms[calls * 9 / 10], ms[Math.min(calls - 1, calls * 99 / 100)], calls);

        if (args.length > 3) { // interleaved with a running `finsent serve` of the same model
            againstServer(p, one, java.net.URI.create(args[3]), calls);
            return;
        }
        for (int batch : new int[]{16, BATCH}) {
            List<List<String>> chunks = new java.util.ArrayList<>();
            for (int c = 0; c < CHUNKS * BATCH / batch; c++) chunks.add(texts.subList(c * batch, (c + 1) * batch));
            warmUp(() -> {
                for (int c = 0; c < 5; c++) p.predict(chunks.get(c));
            });
            int passes = Compare.QUICK ? 5 : 9;
            double[] rate = new double[passes];
            for (int r = 0; r < passes; r++) {
                long t0 = System.nanoTime();
                for (List<String> c : chunks) p.predict(c);
                rate[r] = CHUNKS * BATCH / ((System.nanoTime() - t0) / 1e9);
            }
            Arrays.sort(rate);
            System.out.printf("PREDICTOR batch %d: median %.1f texts/s, best %.1f, worst %.1f (%d passes over %d sentences)%n",
                    batch, rate[passes / 2], rate[passes - 1], rate[0], passes, CHUNKS * BATCH);
        }
    }

    /**
     * Batch 1 in this process and {@code POST /analyze} of the same text to a server, alternated call by call (the
     * order flips each time) so that load from elsewhere hits both alike; the server answers one keep-alive
     * connection, as wrk's one-connection run. Prints both medians and the median of the per-pair differences.
     */
    static void againstServer(Predictor p, String text, java.net.URI url, int calls) throws Exception {
        String body = "{\"text\": \"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}";
        byte[] req = ("POST /analyze HTTP/1.1\r\nHost: " + url.getHost() + "\r\nContent-Type: application/json\r\nContent-Length: "
                + body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (java.net.Socket s = new java.net.Socket(url.getHost(), url.getPort())) {
            s.setTcpNoDelay(true);
            var out = s.getOutputStream();
            var in = new java.io.BufferedInputStream(s.getInputStream());
            Compare.Task http = () -> {
                out.write(req);
                out.flush();
                readResponse(in);
            };
            warmUp(() -> {
                http.run();
                p.predict(text);
            });
            double[] ours = new double[calls], served = new double[calls], diff = new double[calls];
            for (int i = 0; i < calls; i++) {
                for (int k = 0; k < 2; k++) {
                    boolean server = (i + k) % 2 == 0;
                    long t0 = System.nanoTime();
                    if (server) http.run();
                    else p.predict(text);
                    double ms = (System.nanoTime() - t0) / 1e6;
                    if (server) served[i] = ms;
                    else ours[i] = ms;
                }
                diff[i] = served[i] - ours[i];
            }
            Arrays.sort(ours);
            Arrays.sort(served);
            Arrays.sort(diff);
            System.out.printf("PREDICTOR vs %s, batch 1, %d interleaved pairs: predictor median %.2f ms (p99 %.2f), server median %.2f ms "
                            + "(p99 %.2f), median of differences %.2f ms%n", url, calls, ours[calls / 2], ours[calls * 99 / 100],
                    served[calls / 2], served[calls * 99 / 100], diff[calls / 2]);
        }
    }

    /** Reads one HTTP/1.1 response with a Content-Length; fails unless it is 200. */
    private static void readResponse(java.io.InputStream in) throws java.io.IOException {
        StringBuilder head = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            head.append((char) c);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) break;
        }
        String h = head.toString();
        if (!h.startsWith("HTTP/1.1 200")) throw new IllegalStateException("server answered " + h.lines().findFirst().orElse("nothing"));
        int at = h.toLowerCase(java.util.Locale.ROOT).indexOf("content-length:");
        if (at < 0) throw new IllegalStateException("no Content-Length in " + h);
        int len = Integer.parseInt(h.substring(at + 15, h.indexOf('\r', at)).trim());
        if (in.readNBytes(len).length != len) throw new IllegalStateException("short body");
    }
}
