package org.finsent.spark;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.finsent.train.FineTunedModel;
import org.finsent.train.Predictor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The spark-submit job end to end on local[2]: CSV and JSON Lines in, Parquet out, as the Predictor predicts. */
class ScoreMainTest {
    @TempDir
    static Path tmp;

    @Test
    void csvToParquetAndJsonlToJsonl() throws Exception {
        SparkFixtures.spark(); // the tests' shared session: the job uses it and leaves it running
        Path model = SparkFixtures.loraModel(SparkFixtures.tinyBase(tmp.resolve("base"), 5), tmp.resolve("lora"));
        List<String> texts = List.of("Nokia said its net sales rose by 3 % .", "Kone said its revenue fell by 12 % , the company said",
                "Elisa said its order intake was reported for the period .");
        Predictor p = FineTunedModel.load(model).predictor();
        Path csv = tmp.resolve("news.csv");
        StringBuilder s = new StringBuilder("id,headline\n");
        for (int i = 0; i < texts.size(); i++) s.append(i).append(",\"").append(texts.get(i)).append("\"\n");
        s.append("3,\n");
        Files.writeString(csv, s);
        Path jsonl = tmp.resolve("news.jsonl");
        StringBuilder j = new StringBuilder();
        for (int i = 0; i < texts.size(); i++) j.append("{\"id\":").append(i).append(",\"headline\":\"").append(texts.get(i)).append("\"}\n");
        Files.writeString(jsonl, j);

        for (Path in : List.of(csv, jsonl)) {
            Path out = tmp.resolve(in.getFileName() + (in.equals(csv) ? ".parquet" : ".scored.jsonl")); // both output formats
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            ScoreMain.Summary summary = ScoreMain.run(ScoreMain.parse(new String[]{"--model", model.toString(), "--input", in.toString(),
                    "--output", out.toString(), "--text-column", "headline", "--master", "local[2]", "--partitions", "2"}),
                    new PrintStream(log, true, StandardCharsets.UTF_8));
            boolean isCsv = in.equals(csv);
            assertEquals(isCsv ? 4 : 3, summary.rows());
            assertEquals(isCsv ? 1 : 0, summary.errors(), "the CSV's empty headline");
            assertTrue(log.toString(StandardCharsets.UTF_8).contains("scored " + summary.rows() + " rows"), log.toString(StandardCharsets.UTF_8));

            SparkSession spark = SparkFixtures.spark();
            {
                Map<String, Row> byId = new HashMap<>();
                for (Row r : spark.read().format(ScoreMain.outputFormat(out.toString())).load(out.toString()).collectAsList()) byId.put(String.valueOf((Object) r.getAs("id")), r);
                for (int i = 0; i < texts.size(); i++) {
                    Row r = byId.get(String.valueOf(i));
                    assertEquals(p.predict(texts.get(i)).label(), (String) r.getAs("label"));
                    assertEquals(p.predict(texts.get(i)).confidence(), (double) r.getAs("confidence"), 1e-6);
                    assertNull(r.getAs("error"));
                }
                if (isCsv) assertEquals("null text", (String) byId.get("3").getAs("error"), "Spark reads an empty CSV field as null");
            }
        }
        // without --partitions a CSV (read as one partition: multiLine is not splittable) is spread over local[2]'s cores
        Path spread = tmp.resolve("spread.parquet");
        ScoreMain.run(ScoreMain.parse(new String[]{"--model", model.toString(), "--input", csv.toString(), "--output", spread.toString(),
                "--text-column", "headline", "--master", "local[2]"}), new PrintStream(OutputStream.nullOutputStream()));
        try (var parts = Files.list(spread)) {
            assertEquals(2, parts.filter(f -> f.getFileName().toString().startsWith("part-")).count(), "one output file per partition");
        }
        var e = assertThrows(IllegalArgumentException.class, () -> ScoreMain.format(ScoreMain.parse(new String[]{"--model", "m",
                "--input", "x.txt", "--output", "o"})));
        assertTrue(e.getMessage().contains("--format"), e.getMessage());
    }
}
