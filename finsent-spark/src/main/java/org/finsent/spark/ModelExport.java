package org.finsent.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finsent.core.model.Pretrained;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.core.nn.Parameter;
import org.finsent.peft.PeftModel;
import org.finsent.train.FineTunedModel;
import org.finsent.train.ModelSources;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A model directory that needs nothing else: what a Spark executor (or any machine without the base model) loads.
 *
 * <p>A PEFT directory stores only the trained weights and names its base ({@code bert-base-uncased} from the local
 * Maven repository, {@code hf:} from the hub, an absolute path), which an executor does not have. An export is
 * one of:
 * <ul>
 *   <li><b>merged</b> ({@code merge = true}, LoRA only): every LoRA update folded into its base weight
 *       ({@code W + s·B·A}, PEFT's {@code merge_and_unload}) and the whole classifier saved as a fully fine-tuned
 *       directory ({@code model.safetensors}). Inference then costs no more than the base model. The merged weight is
 *       rounded to float once, so predictions agree with the adapter's to float rounding (tested within 1e-6), not
 *       bit for bit;</li>
 *   <li><b>packed</b> (any PEFT method): the adapter files as they are, plus the base classifier in {@code base/}
 *       (config.json, model.safetensors, tokenizer files); {@code finsent.json} names {@code ./base}. Predictions are
 *       bit-identical to the original's (same weights, same code). Loaded by {@link ModelCache#load}.</li>
 * </ul>
 * A fully fine-tuned (or head-only) directory is already self-contained and is copied.
 */
public final class ModelExport {
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String BASE_DIR = "base";

    private ModelExport() {
    }

    /** What {@link #export} wrote. */
    public record Result(Path dir, String kind, long bytes) {
    }

    /**
     * Exports {@code modelDir} to {@code out} (created; must be empty or absent).
     *
     * @param merge fold LoRA into the base weights (LoRA-only models); false packs the base beside the adapter
     */
    public static Result export(Path modelDir, Path out, boolean merge) throws IOException {
        if (Files.exists(out)) {
            try (Stream<Path> s = Files.list(out)) {
                if (s.findAny().isPresent()) throw new IllegalArgumentException("output directory " + out + " is not empty: give a new one");
            }
        }
        FineTunedModel ft = FineTunedModel.load(modelDir);
        FineTunedModel.Info info = ft.info();
        List<String> techniques = info.techniques();
        Files.createDirectories(out);
        if (techniques.contains("full") || techniques.contains("head")) {
            copyFiles(modelDir, out);
            return new Result(out, "copy", size(out));
        }
        PeftModel peft = (PeftModel) ft.model();
        // a pristine base, for the names (and only the names) of the base classifier's weights: PEFT modules sit
        // inside the base model, so its parameter list also holds lora_A/lora_B and adapter weights
        SequenceClassifier pristine = ModelSources.loadBase(info.baseModel(), info.labels().size(), 0).model();
        Map<String, Parameter> trained = peft.base().namedParameters();
        Map<String, Parameter> baseWeights = new LinkedHashMap<>();
        for (String name : pristine.namedParameters().keySet()) {
            Parameter p = trained.get(name);
            if (p == null) throw new IllegalStateException(name + " is in the base but not in the fine-tuned model");
            baseWeights.put(name, p);
        }
        ObjectNode j = (ObjectNode) JSON.readTree(modelDir.resolve(FineTunedModel.INFO_FILE).toFile());
        ObjectNode exported = JSON.createObjectNode();
        exported.put("from", modelDir.toAbsolutePath().toString());
        exported.put("base_model", info.baseModel());
        ArrayNode t = exported.putArray("techniques");
        techniques.forEach(t::add);
        if (merge) {
            if (!techniques.equals(List.of("lora"))) {
                throw new IllegalArgumentException("only a LoRA model can be merged (this one has " + techniques
                        + "): export it without --merge to pack the base beside the adapter");
            }
            peft.merge(); // the base weights now hold W + s·B·A (the loaded model is not used afterwards)
            Pretrained.saveWeights(baseWeights, out);
            copyMetaFiles(modelDir, out);
            j.putArray("techniques").add("full");
            exported.put("kind", "merged");
        } else {
            Path base = out.resolve(BASE_DIR);
            Files.createDirectories(base);
            // the base's weights before merging: the adapter is applied on top at load time
            Pretrained.saveWeights(baseWeights, base);
            copyMetaFiles(modelDir, base);
            for (Path f : list(modelDir)) {
                if (f.getFileName().toString().equals(FineTunedModel.INFO_FILE) || !modelFile(f)) continue;
                copyRecursively(f, out.resolve(f.getFileName().toString()));
            }
            j.put("base_model", "./" + BASE_DIR);
            exported.put("kind", "packed");
        }
        j.set("exported", exported);
        JSON.writerWithDefaultPrettyPrinter().writeValue(out.resolve(FineTunedModel.INFO_FILE).toFile(), j);
        return new Result(out, exported.get("kind").asText(), size(out));
    }

    /**
     * Zips a model directory for {@code spark.archives} (spark-submit's {@code --archives}) and returns the entry to
     * put there, {@code file:/…/name.zip#name}: every executor unpacks it when it starts, into its working directory
     * as {@code name} (the directory's file name), where {@link ModelCache} resolves the {@code modelPath}
     * {@code name}. Set it before the session starts:
     * {@code SparkSession.builder().config("spark.archives", ModelExport.archive(dir))}; {@code finsent score} does.
     * ({@code addFile(dir, true)} does not do: Spark accepts a directory there only from a Hadoop file system such as
     * HDFS or S3, not from the driver's disk.) Archive an export ({@link #export}), not a PEFT directory whose base
     * lives elsewhere.
     */
    public static String archive(Path dir) throws IOException {
        if (!Files.isRegularFile(dir.resolve(FineTunedModel.INFO_FILE))) {
            throw new IllegalArgumentException(dir + " is not a FinSent model directory (no " + FineTunedModel.INFO_FILE + ")");
        }
        String name = dir.toAbsolutePath().normalize().getFileName().toString();
        Path zip = Files.createTempDirectory("finsent-ship").resolve(name + ".zip");
        zip.toFile().deleteOnExit();
        zip.getParent().toFile().deleteOnExit();
        try (var out = new java.util.zip.ZipOutputStream(Files.newOutputStream(zip)); Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                out.putNextEntry(new java.util.zip.ZipEntry(dir.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
        return zip.toUri() + "#" + name;
    }

    /** config.json and the tokenizer files. */
    private static void copyMetaFiles(Path from, Path to) throws IOException {
        Files.copy(from.resolve("config.json"), to.resolve("config.json"), StandardCopyOption.REPLACE_EXISTING);
        for (String f : ModelSources.TOKENIZER_FILES) {
            Path p = from.resolve(f);
            if (Files.isRegularFile(p)) Files.copy(p, to.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void copyFiles(Path from, Path to) throws IOException {
        for (Path f : list(from)) if (modelFile(f)) copyRecursively(f, to.resolve(f.getFileName().toString()));
    }

    /** A model file (not a training output such as checkpoint-N/, training_log.jsonl or plots). */
    private static boolean modelFile(Path f) {
        String n = f.getFileName().toString();
        if (Files.isDirectory(f)) return List.of("lora", "adapter", "prefix", "prompt").contains(n);
        return !n.equals("training_log.jsonl") && (n.endsWith(".json") || n.endsWith(".safetensors") || n.endsWith(".txt"));
    }

    private static void copyRecursively(Path from, Path to) throws IOException {
        if (Files.isDirectory(from)) {
            Files.createDirectories(to);
            for (Path f : list(from)) copyRecursively(f, to.resolve(f.getFileName().toString()));
        } else {
            Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static List<Path> list(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new NoSuchFileException(dir.toString());
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted(Comparator.naturalOrder()).toList();
        }
    }

    private static long size(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
