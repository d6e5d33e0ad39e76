package org.finsent.cli;

import org.finsent.core.hub.HfHub;
import org.finsent.core.hub.HfHub.RepoType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code finsent download hf:org/name[@rev] [--file F]... [--dataset]}: fetches a model's usual files (or the named
 * files of a model or data set) into the Hugging Face cache, in Python's layout, and prints where they are. Run it on
 * a machine with a network; copy the cache to one without and set {@code HF_HUB_OFFLINE=1} there (docs/HUB.md).
 */
@Command(name = "download", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fetch a model or data set from the Hugging Face hub into the local cache (the layout Python's "
                + "huggingface_hub uses), so later runs work offline.",
                "Without --file: a model's config.json, weights (model.safetensors, else pytorch_model.bin) and "
                        + "tokenizer files (tokenizer.json, vocab.txt, vocab.json, merges.txt, tokenizer_config.json, "
                        + "special_tokens_map.json; absent ones are skipped); a known data set's data files."},
        footer = {"", "Environment: HF_ENDPOINT (default https://huggingface.co), HF_HUB_CACHE (else $HF_HOME/hub, "
                + "else ~/.cache/huggingface/hub), HF_TOKEN (else $HF_HOME/token) for private or gated repositories, "
                + "HF_HUB_OFFLINE=1 to only check the cache.",
                "Examples:", "  finsent download hf:ProsusAI/finbert",
                "  finsent download hf:openai-community/gpt2@main --file config.json --file model.safetensors",
                "  finsent download --dataset hf:takala/financial_phrasebank"})
public final class DownloadCommand implements Callable<Integer> {
    /** Weight files in order of preference; one of them is required. */
    static final List<String> WEIGHTS = List.of("model.safetensors", "pytorch_model.bin");
    static final List<String> OPTIONAL_MODEL_FILES = List.of("tokenizer.json", "vocab.txt", "vocab.json",
            "merges.txt", "tokenizer_config.json", "special_tokens_map.json");
    /** Data files of the data sets the study uses, for --dataset without --file. */
    static final Map<String, List<String>> DATASET_FILES = Map.of(
            "takala/financial_phrasebank", List.of("data/FinancialPhraseBank-v1.0.zip"),
            "zeroshot/twitter-financial-news-sentiment", List.of("sent_train.csv", "sent_valid.csv"));

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "hf:ORG/NAME[@REV]",
            description = "Hub repository, optionally at a branch, tag or commit (default main).")
    String source;

    @Option(names = "--file", paramLabel = "FILE",
            description = "A file of the repository to fetch (repeatable); each one named must exist.")
    List<String> files = new ArrayList<>();

    @Option(names = "--dataset", description = "The repository is a data set (hub URL datasets/..., cache datasets--...).")
    boolean dataset;

    @Option(names = "--cache-dir", paramLabel = "DIR", description = "Hub cache folder (default: $HF_HUB_CACHE, "
            + "else $HF_HOME/hub, else ~/.cache/huggingface/hub).")
    Path cacheDir;

    @Option(names = "--endpoint", paramLabel = "URL", description = "Hub root (default: $HF_ENDPOINT, else "
            + "https://huggingface.co), e.g. a mirror.")
    URI endpoint;

    @Override
    public Integer call() throws IOException {
        HfHub.Source src = HfHub.Source.parse(source);
        HfHub hub = HfHub.fromEnvironment();
        if (endpoint != null) hub = hub.withEndpoint(endpoint);
        if (cacheDir != null) hub = hub.withCacheDir(cacheDir);
        RepoType type = dataset ? RepoType.DATASET : RepoType.MODEL;
        PrintWriter out = spec.commandLine().getOut();
        out.println((dataset ? "data set " : "model ") + src + " from " + (hub.offline() ? "the cache only "
                + "(HF_HUB_OFFLINE)" : hub.endpoint()) + " into " + hub.cacheDir());

        Path snapshot;
        if (!files.isEmpty()) {
            snapshot = fetchAll(hub, type, src, files, out);
        } else if (dataset) {
            List<String> known = DATASET_FILES.get(src.repoId());
            if (known == null) {
                throw new IllegalArgumentException("name the data set's files with --file (known data sets: "
                        + String.join(", ", DATASET_FILES.keySet()) + ")");
            }
            snapshot = fetchAll(hub, type, src, known, out);
        } else {
            snapshot = fetchModel(hub, src, out);
        }
        out.println("snapshot: " + snapshot);
        out.flush();
        return 0;
    }

    private static Path fetchAll(HfHub hub, RepoType type, HfHub.Source src, List<String> names, PrintWriter out)
            throws IOException {
        Path snapshot = null;
        for (String name : names) {
            snapshot = snapshotOf(fetch(hub, type, src, name, out), name);
        }
        return snapshot;
    }

    private static Path fetchModel(HfHub hub, HfHub.Source src, PrintWriter out) throws IOException {
        Path snapshot = snapshotOf(fetch(hub, RepoType.MODEL, src, "config.json", out), "config.json");
        Path weights = null;
        for (String w : WEIGHTS) {
            weights = fetchOptional(hub, src, w, out);
            if (weights != null) break;
        }
        if (weights == null) {
            throw new FileNotFoundException("found neither " + String.join(" nor ", WEIGHTS) + " for model " + src
                    + (hub.offline() ? " in the cache " + hub.cacheDir() : "")
                    + " (sharded or other formats are not supported; name files with --file)");
        }
        for (String name : OPTIONAL_MODEL_FILES) fetchOptional(hub, src, name, out);
        return snapshot;
    }

    private static Path fetch(HfHub hub, RepoType type, HfHub.Source src, String name, PrintWriter out)
            throws IOException {
        Path p = hub.download(type, src.repoId(), src.revision(), name);
        out.println("  " + name + " -> " + p);
        out.flush();
        return p;
    }

    private static Path fetchOptional(HfHub hub, HfHub.Source src, String name, PrintWriter out) throws IOException {
        try {
            return fetch(hub, RepoType.MODEL, src, name, out);
        } catch (FileNotFoundException e) {
            out.println("  " + name + ": not in the repository (skipped)");
            return null;
        } catch (HfHub.NotCachedException e) {
            // Offline (or hub unreachable): an optional file a Python download never fetched is no error.
            out.println("  " + name + ": not in the cache (optional; skipped)");
            return null;
        }
    }

    /** snapshots/&lt;commit&gt; from the path of one of its files (which may lie in subfolders). */
    private static Path snapshotOf(Path file, String name) {
        Path p = file;
        for (int i = 0; i < Path.of(name).getNameCount(); i++) p = p.getParent();
        return p;
    }
}
