package org.finsent.train.pretrain;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.finsent.core.io.AtomicFiles;
import org.finsent.train.TrainingArguments;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * How a pretrained model directory was made: {@code pretraining.json} (base model, objective, text sources, settings,
 * final loss) and {@code pretraining_texts.sha256}, a fingerprint of every distinct pretraining text. A model
 * fine-tuned from the directory can then be described, and its evaluation texts checked against the pretraining
 * texts, from the directory alone: the texts' files need not exist any more.
 *
 * @param sources        where the texts came from, in words ({@code data fpb: training split (…)}, {@code text file …})
 * @param texts          texts read, duplicates included
 * @param distinctTexts  distinct texts (after {@link String#strip()}), the lines of the fingerprint file
 * @param mlmProbability masked-LM selection probability; null for a causal LM
 * @param wholeWordMask  whole-word masking; null for a causal LM
 * @param trainRuntimeSeconds the training time of the invocation that finished the run (after {@code resumedFrom})
 * @param resumedFrom    the checkpoint that invocation resumed from ({@code checkpoint-N}); null when it started at step 0
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record PretrainingRecord(String baseModel, String objective, String technique, List<String> sources, int texts,
                                int distinctTexts, int epochs, long maxSteps, long globalSteps, int batchSize,
                                int gradientAccumulationSteps, double learningRate, double warmupRatio, double weightDecay,
                                int maxSeqLength, long seed, Double mlmProbability, Boolean wholeWordMask, Double trainLoss,
                                double trainRuntimeSeconds, String resumedFrom, String finishedAt) {

    public static final String FILE = "pretraining.json", TEXTS_FILE = "pretraining_texts.sha256";

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    static PretrainingRecord of(String baseModel, String technique, List<String> sources, List<String> texts, TrainingArguments args,
                                MlmMasking masking, Pretrainer.Result result) {
        return new PretrainingRecord(baseModel, masking == null ? "causal_lm" : "masked_lm", technique, List.copyOf(sources), texts.size(),
                fingerprints(texts).size(), args.numTrainEpochs(), args.maxSteps(), result.globalStep(), args.perDeviceTrainBatchSize(),
                args.gradientAccumulationSteps(), args.learningRate(), args.warmupRatio(), args.weightDecay(), args.maxSeqLength(),
                args.seed(), masking == null ? null : masking.probability(), masking == null ? null : masking.wholeWord(),
                Double.isFinite(result.trainLoss()) ? result.trainLoss() : null, result.runtimeSeconds(),
                args.resumeFromCheckpoint() == null ? null : args.resumeFromCheckpoint().getFileName().toString(), Instant.now().toString());
    }

    /** Writes both files into {@code dir}, each atomically. */
    public void write(Path dir, Collection<String> pretrainingTexts) throws IOException {
        Files.createDirectories(dir);
        String lines = String.join("\n", fingerprints(pretrainingTexts)) + "\n";
        AtomicFiles.write(dir.resolve(TEXTS_FILE), tmp -> Files.writeString(tmp, lines, StandardCharsets.UTF_8));
        AtomicFiles.write(dir.resolve(FILE), tmp -> JSON.writeValue(tmp.toFile(), this));
    }

    /** The record of a model directory, or null when it has none (a model not made by {@code finsent pretrain}). */
    public static PretrainingRecord read(Path dir) throws IOException {
        Path f = dir.resolve(FILE);
        return Files.isRegularFile(f) ? JSON.readValue(f.toFile(), PretrainingRecord.class) : null;
    }

    /**
     * How many of {@code texts} (duplicates counted) were among the pretraining texts of the model directory
     * {@code dir}, compared by fingerprint.
     */
    public static long countPretrainedOn(Path dir, Collection<String> texts) throws IOException {
        return countIn(fingerprints(dir), texts);
    }

    /** The fingerprints of the model directory {@code dir}'s pretraining texts ({@link #TEXTS_FILE}). */
    public static Set<String> fingerprints(Path dir) throws IOException {
        Path f = dir.resolve(TEXTS_FILE);
        if (!Files.isRegularFile(f)) throw new NoSuchFileException(f.toString(), null, "the pretraining record has no text fingerprints");
        return new java.util.HashSet<>(Files.readAllLines(f, StandardCharsets.UTF_8));
    }

    /** How many of {@code texts} (duplicates counted) have a fingerprint in {@code seen}. */
    public static long countIn(Set<String> seen, Collection<String> texts) {
        return texts.stream().filter(t -> seen.contains(fingerprint(t))).count();
    }

    /**
     * A text's fingerprint: the first 16 hex digits (64 bits) of the SHA-256 of its stripped UTF-8 form. Two distinct
     * texts among a million collide with probability about 3e-8.
     */
    public static String fingerprint(String text) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(text.strip().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JVM has SHA-256
        }
    }

    static TreeSet<String> fingerprints(Collection<String> texts) {
        TreeSet<String> out = new TreeSet<>();
        for (String t : texts) out.add(fingerprint(t));
        return out;
    }
}
