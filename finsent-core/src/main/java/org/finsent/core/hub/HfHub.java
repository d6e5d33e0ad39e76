package org.finsent.core.hub;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;

/**
 * Hugging Face hub client with the cache layout Python's {@code huggingface_hub} uses
 * ({@code <cache>/models--org--name/snapshots/<commit>/<file>}), so files a Python user already downloaded are found
 * without a network. STUB: the API is fixed, the implementation is being written.
 */
public final class HfHub {
    /** Which kind of hub repository; the cache folder prefix is {@code models--} / {@code datasets--}. */
    public enum RepoType { MODEL, DATASET }

    private final URI endpoint;
    private final Path cacheDir;
    private final boolean offline;
    private final String token;

    public HfHub(URI endpoint, Path cacheDir, boolean offline, String token) {
        this.endpoint = endpoint;
        this.cacheDir = cacheDir;
        this.offline = offline;
        this.token = token;
    }

    /** From {@code HF_ENDPOINT}, {@code HF_HUB_CACHE} / {@code HF_HOME}, {@code HF_HUB_OFFLINE}, {@code HF_TOKEN}. */
    public static HfHub fromEnvironment() {
        throw new UnsupportedOperationException("HfHub is not implemented yet");
    }

    /**
     * The local path of one file of a repository at a revision (branch, tag or commit; null = "main"), downloading it
     * into the cache when needed. Throws {@link java.io.FileNotFoundException} when the repository has no such file
     * (so callers can probe optional files), and an {@link IOException} with an actionable message otherwise
     * (offline and not cached: what to download and where to put it; 401: set HF_TOKEN; ...).
     */
    public Path download(RepoType type, String repoId, String revision, String filename) throws IOException {
        throw new UnsupportedOperationException("HfHub is not implemented yet");
    }

    public Path cacheDir() {
        return cacheDir;
    }
}
