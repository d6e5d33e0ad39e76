package org.finsent.core.hub;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hugging Face hub client that behaves like Python's {@code huggingface_hub.hf_hub_download}, with the same cache
 * layout, so files a Python user already downloaded are found without a network and vice versa:
 * <pre>
 * &lt;cache&gt;/models--org--name/            (datasets--org--name/ for data sets)
 *   blobs/&lt;etag&gt;                          file contents, named by git blob sha1 or LFS sha256
 *   refs/&lt;revision&gt;                       the commit a branch or tag pointed at when last asked
 *   snapshots/&lt;commit&gt;/&lt;filename&gt;         relative symlink to ../../blobs/&lt;etag&gt; (a copy where links fail)
 *   .no_exist/&lt;commit&gt;/&lt;filename&gt;         empty marker: the hub said 404 for this file at this commit
 * </pre>
 * Like Python: a HEAD without following redirects (except relative ones, i.e. renamed repositories) gives the commit
 * ({@code X-Repo-Commit}), the etag ({@code X-Linked-Etag} for LFS files, else {@code ETag}), the size and, for LFS
 * files, the CDN location; the GET then follows redirects and drops the {@code Authorization} header on any other
 * host. Partial downloads stay in {@code blobs/<etag>.incomplete} and resume with {@code Range}. When the hub cannot
 * be reached (offline mode, network failure, server error), the cache answers if it can.
 * <p>
 * Within one instance a branch or tag is resolved to a commit once: the following files of the same repository come
 * from that same commit (one consistent snapshot) and a repeated call finds the file without any request.
 */
public final class HfHub {
    /** Which kind of hub repository; the cache folder prefix is {@code models--} / {@code datasets--}. */
    public enum RepoType {
        MODEL("model", ""), DATASET("dataset", "datasets/");

        final String word;
        final String urlPrefix;

        RepoType(String word, String urlPrefix) {
            this.word = word;
            this.urlPrefix = urlPrefix;
        }
    }

    /**
     * The file is not in the cache and the hub could not be asked (offline mode or network failure). The message says
     * what to download and where to put it.
     */
    public static final class NotCachedException extends IOException {
        NotCachedException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A repository at a revision as users write it: {@code hf:org/name[@revision]} (the {@code hf:} is optional). */
    public record Source(String repoId, String revision) {
        public static Source parse(String spec) {
            if (spec == null || spec.isBlank()) throw new IllegalArgumentException("empty hub source");
            String s = spec.strip();
            if (s.startsWith("hf:")) s = s.substring(3);
            int at = s.lastIndexOf('@');
            String repo = at < 0 ? s : s.substring(0, at);
            String rev = at < 0 ? DEFAULT_REVISION : s.substring(at + 1);
            if (rev.isBlank()) throw new IllegalArgumentException("empty revision after '@' in '" + spec + "'");
            try {
                checkRepoId(repo);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("not a hub source: '" + spec
                        + "' (expected hf:org/name or hf:org/name@revision, e.g. hf:ProsusAI/finbert)");
            }
            return new Source(repo, rev);
        }

        @Override
        public String toString() {
            return "hf:" + repoId + (DEFAULT_REVISION.equals(revision) ? "" : "@" + revision);
        }
    }

    public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");
    public static final String DEFAULT_REVISION = "main";

    private static final Pattern COMMIT_HASH = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern REPO_ID = Pattern.compile("[\\w.\\-]{1,96}(/[\\w.\\-]{1,96})?");
    private static final Pattern SAFE_ETAG = Pattern.compile("[\\w.\\-]+");
    private static final Pattern CONTENT_RANGE_START = Pattern.compile("bytes (\\d+)-");
    private static final int MAX_REDIRECTS = 10;
    /** Serialises downloads of one blob inside this JVM; the file lock below does it across processes. */
    private static final Map<Path, Object> JVM_LOCKS = new ConcurrentHashMap<>();

    private final URI endpoint;
    private final Path cacheDir;
    private final boolean offline;
    private final String token;
    private final Map<String, String> resolvedRevisions = new ConcurrentHashMap<>();
    private volatile HttpClient client;

    /**
     * @param endpoint hub root (null = {@link #DEFAULT_ENDPOINT})
     * @param cacheDir the hub cache ({@code ~/.cache/huggingface/hub} for Python's default)
     * @param offline  never touch the network; answer from the cache only
     * @param token    sent as {@code Authorization: Bearer} to the hub (null or blank = none)
     */
    public HfHub(URI endpoint, Path cacheDir, boolean offline, String token) {
        if (cacheDir == null) throw new IllegalArgumentException("cacheDir is required");
        String root = (endpoint == null ? DEFAULT_ENDPOINT : endpoint).toString();
        while (root.endsWith("/")) root = root.substring(0, root.length() - 1);
        this.endpoint = URI.create(root);
        this.cacheDir = cacheDir;
        this.offline = offline;
        this.token = token == null || token.isBlank() ? null : token.strip();
    }

    /**
     * From the environment, with Python's names and precedence: {@code HF_ENDPOINT}; {@code HF_HUB_CACHE}, else
     * {@code $HF_HOME/hub} ({@code HF_HOME} defaults to {@code $XDG_CACHE_HOME/huggingface}, then
     * {@code ~/.cache/huggingface}); {@code HF_HUB_OFFLINE} (1/ON/YES/TRUE); {@code HF_TOKEN}, else the file
     * {@code $HF_HOME/token} that {@code huggingface-cli login} writes.
     */
    public static HfHub fromEnvironment() {
        return fromEnvironment(System::getenv);
    }

    static HfHub fromEnvironment(Function<String, String> env) {
        Path home = Path.of(System.getProperty("user.home"));
        Path hfHome = Optional.ofNullable(nonBlank(env.apply("HF_HOME"))).map(HfHub::expandHome)
                .orElseGet(() -> Optional.ofNullable(nonBlank(env.apply("XDG_CACHE_HOME"))).map(HfHub::expandHome)
                        .orElse(home.resolve(".cache")).resolve("huggingface"));
        Path cache = Optional.ofNullable(nonBlank(env.apply("HF_HUB_CACHE")))
                .or(() -> Optional.ofNullable(nonBlank(env.apply("HUGGINGFACE_HUB_CACHE")))) // legacy name
                .map(HfHub::expandHome).orElse(hfHome.resolve("hub"));
        String offlineFlag = nonBlank(env.apply("HF_HUB_OFFLINE"));
        if (offlineFlag == null) offlineFlag = nonBlank(env.apply("TRANSFORMERS_OFFLINE"));
        boolean offline = offlineFlag != null
                && Set.of("1", "ON", "YES", "TRUE").contains(offlineFlag.strip().toUpperCase(Locale.ROOT));
        String token = nonBlank(env.apply("HF_TOKEN"));
        if (token == null) token = nonBlank(env.apply("HUGGING_FACE_HUB_TOKEN")); // legacy name
        if (token == null) {
            Path tokenFile = Optional.ofNullable(nonBlank(env.apply("HF_TOKEN_PATH"))).map(HfHub::expandHome)
                    .orElse(hfHome.resolve("token"));
            try {
                if (Files.isRegularFile(tokenFile)) token = nonBlank(Files.readString(tokenFile).strip());
            } catch (IOException e) {
                token = null; // an unreadable token file is treated like none, as Python does
            }
        }
        String ep = nonBlank(env.apply("HF_ENDPOINT"));
        return new HfHub(ep == null ? DEFAULT_ENDPOINT : URI.create(ep), cache, offline, token);
    }

    /**
     * The local path of one file of a repository at a revision (branch, tag or commit; null = "main"), downloading it
     * into the cache when needed. Throws {@link java.io.FileNotFoundException} when the repository has no such file
     * (so callers can probe optional files), {@link NotCachedException} when offline and not cached (the message says
     * what to download and where to put it), and an {@link IOException} with an actionable message otherwise.
     */
    public Path download(RepoType type, String repoId, String revision, String filename) throws IOException {
        if (type == null) throw new IllegalArgumentException("repository type is required");
        checkRepoId(repoId);
        String rev = revision == null || revision.isBlank() ? DEFAULT_REVISION : revision.strip();
        checkRelative(rev, "revision");
        checkRelative(filename, "file name");
        Path storage = repoFolder(type, repoId);

        // A commit, given or already resolved in this instance, whose file is cached needs no request.
        String key = type + ":" + repoId + "@" + rev;
        String knownCommit = COMMIT_HASH.matcher(rev).matches() ? rev : resolvedRevisions.get(key);
        if (knownCommit != null && Files.exists(pointerPath(storage, knownCommit, filename))) {
            return pointerPath(storage, knownCommit, filename);
        }
        if (offline) {
            return fromCache(type, repoId, rev, filename, storage, null);
        }

        String urlRevision = knownCommit != null ? knownCommit : rev;
        URI url = resolveUrl(type, repoId, urlRevision, filename);
        Metadata meta;
        try {
            meta = head(url, type, repoId, rev, filename);
        } catch (FileNotFoundException e) {
            if (e instanceof EntryNotFound missing && missing.commit != null) {
                // Python records the miss so that later offline lookups can say "absent" rather than "not cached".
                Path marker = inside(storage, storage.resolve(".no_exist").resolve(missing.commit).resolve(filename));
                Files.createDirectories(marker.getParent());
                if (!Files.exists(marker)) Files.createFile(marker);
                writeRef(storage, rev, missing.commit);
            }
            throw e;
        } catch (Unreachable e) {
            return fromCache(type, repoId, rev, filename, storage, e);
        }

        Path blob = inside(storage, storage.resolve("blobs").resolve(meta.etag));
        Path pointer = pointerPath(storage, meta.commit, filename);
        Files.createDirectories(blob.getParent());
        Files.createDirectories(pointer.getParent());
        writeRef(storage, rev, meta.commit);
        if (!COMMIT_HASH.matcher(rev).matches()) resolvedRevisions.put(key, meta.commit);
        if (Files.exists(pointer)) return pointer;
        // Python's .locks/<repo folder>/<etag>.lock: one writer per blob (and its links) at a time.
        Path lockPath = cacheDir.resolve(".locks").resolve(repoFolderName(type, repoId)).resolve(meta.etag + ".lock");
        Files.createDirectories(lockPath.getParent());
        synchronized (JVM_LOCKS.computeIfAbsent(lockPath, p -> new Object())) {
            try (FileChannel ch = FileChannel.open(lockPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                if (!Files.exists(blob)) fetch(meta, blob, type, repoId, rev, filename);
                if (!Files.exists(pointer)) link(blob, pointer);
            }
        }
        return pointer;
    }

    public Path cacheDir() {
        return cacheDir;
    }

    /** The same client (offline flag, token) against another hub root, e.g. a mirror. */
    public HfHub withEndpoint(URI newEndpoint) {
        return new HfHub(newEndpoint, cacheDir, offline, token);
    }

    /** The same client (endpoint, offline flag, token) with another cache folder. */
    public HfHub withCacheDir(Path newCacheDir) {
        return new HfHub(endpoint, newCacheDir, offline, token);
    }

    public URI endpoint() {
        return endpoint;
    }

    public boolean offline() {
        return offline;
    }

    /** {@code models--org--name} / {@code datasets--org--name}, as Python's {@code repo_folder_name}. */
    public static String repoFolderName(RepoType type, String repoId) {
        return type.word + "s--" + repoId.replace("/", "--");
    }

    /** This repository's folder in the cache (it may not exist yet). */
    public Path repoFolder(RepoType type, String repoId) {
        return cacheDir.resolve(repoFolderName(type, repoId));
    }

    /** {@code {endpoint}/[datasets/]{repo_id}/resolve/{revision}/{filename}}, revision fully percent-encoded. */
    public URI resolveUrl(RepoType type, String repoId, String revision, String filename) {
        String rev = revision == null || revision.isBlank() ? DEFAULT_REVISION : revision;
        return URI.create(endpoint + "/" + type.urlPrefix + repoId + "/resolve/" + percentEncode(rev, false) + "/"
                + percentEncode(filename, true));
    }

    // ---------------------------------------------------------------------------------------------- cache lookups

    private static Path pointerPath(Path storage, String commit, String filename) throws IOException {
        return inside(storage, storage.resolve("snapshots").resolve(commit).resolve(filename));
    }

    /**
     * {@code path} if it lies inside {@code storage} once normalised. Everything this class resolves comes from
     * checked names (repository id, revision, file name, commit, ETag); this is the check that makes a gap in
     * those checks unexploitable.
     */
    private static Path inside(Path storage, Path path) throws IOException {
        Path root = storage.toAbsolutePath().normalize();
        Path p = path.toAbsolutePath().normalize();
        if (!p.startsWith(root) || p.equals(root)) {
            throw new IOException("refusing cache path " + path + ": it lies outside the repository's cache folder " + storage);
        }
        return path;
    }

    /** The cache's answer when the hub cannot be asked: the file, "absent" (404 recorded), or what to do. */
    private Path fromCache(RepoType type, String repoId, String rev, String filename, Path storage, IOException cause)
            throws IOException {
        String commit = COMMIT_HASH.matcher(rev).matches() ? rev : readRef(storage, rev);
        if (commit != null) {
            Path pointer = pointerPath(storage, commit, filename);
            if (Files.exists(pointer)) return pointer;
            if (Files.exists(inside(storage, storage.resolve(".no_exist").resolve(commit).resolve(filename)))) {
                throw new FileNotFoundException(type.word + " " + repoId + " has no file " + filename
                        + " at revision " + rev + " (recorded in the cache " + storage.resolve(".no_exist") + ")");
            }
        }
        throw new NotCachedException(notCachedMessage(type, repoId, rev, filename, storage, cause), cause);
    }

    private String notCachedMessage(RepoType type, String repoId, String rev, String filename, Path storage,
                                    IOException cause) {
        String why = cause == null
                ? "HF_HUB_OFFLINE is set"
                : "the hub at " + endpoint + " could not be reached (" + cause.getMessage()
                + "; on a machine without a network set HF_HUB_OFFLINE=1 to use the cache only)";
        String revOpt = DEFAULT_REVISION.equals(rev) ? "" : " --revision " + rev;
        String typeOpt = type == RepoType.DATASET ? " --repo-type dataset" : "";
        return String.format(Locale.ROOT,
                "%s %s: file %s (revision %s) is not in the Hugging Face cache %s and %s. "
                        + "On a machine with a network run `huggingface-cli download %s %s%s%s --cache-dir %s` "
                        + "(or `finsent download hf:%s%s%s --file %s --cache-dir %s`), then copy the folder %s "
                        + "to %s on this machine (it holds refs/%s and snapshots/<commit>/%s); or point HF_HUB_CACHE "
                        + "at a cache that has it.",
                type.word, repoId, filename, rev, cacheDir, why,
                repoId, filename, typeOpt, revOpt, cacheDir,
                repoId, DEFAULT_REVISION.equals(rev) ? "" : "@" + rev, type == RepoType.DATASET ? " --dataset" : "",
                filename, cacheDir, storage.getFileName(), storage, rev, filename);
    }

    /**
     * The commit refs/&lt;rev&gt; records, or null when there is none. Its content becomes a path, so it must be what
     * the hub writes there, a 40-hex commit hash; anything else (a path, "../..") is refused naming the file.
     */
    private static String readRef(Path storage, String rev) throws IOException {
        Path ref = inside(storage, storage.resolve("refs").resolve(rev));
        if (!Files.isRegularFile(ref)) return null;
        if (Files.size(ref) > 1024) throw new IOException(badRef(ref, "a file of " + Files.size(ref) + " bytes"));
        String commit = Files.readString(ref, StandardCharsets.UTF_8).strip();
        if (commit.isEmpty()) return null;
        if (!COMMIT_HASH.matcher(commit).matches()) {
            throw new IOException(badRef(ref, "'" + (commit.length() > 60 ? commit.substring(0, 57) + "..." : commit) + "'"));
        }
        return commit;
    }

    private static String badRef(Path ref, String what) {
        return "the Hugging Face cache file " + ref + " holds " + what + ", not a 40-character commit hash;"
                + " delete it (it is re-created on the next download)";
    }

    /** refs/&lt;revision&gt; holds the commit a branch or tag resolved to (nothing for a commit revision). */
    private static void writeRef(Path storage, String rev, String commit) throws IOException {
        if (rev.equals(commit)) return;
        Path ref = inside(storage, storage.resolve("refs").resolve(rev));
        String old;
        try {
            old = readRef(storage, rev);
        } catch (IOException e) {
            old = null; // a corrupt ref is overwritten with what the hub just answered
        }
        if (commit.equals(old)) return;
        Files.createDirectories(ref.getParent());
        Files.writeString(ref, commit, StandardCharsets.UTF_8); // no newline, as Python writes it
    }

    /** snapshots/... -> relative symlink to the blob, as Python makes; a copy where symlinks are not allowed. */
    private static void link(Path blob, Path pointer) throws IOException {
        Files.deleteIfExists(pointer); // a dangling link left by a deleted blob
        try {
            Files.createSymbolicLink(pointer, pointer.getParent().relativize(blob));
        } catch (UnsupportedOperationException | IOException e) {
            Files.copy(blob, pointer, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    // ---------------------------------------------------------------------------------------------- network

    private record Metadata(String commit, String etag, long size, URI location) {}

    /** 404 for a file (not for a repository or revision); carries the commit the hub answered for. */
    private static final class EntryNotFound extends FileNotFoundException {
        final String commit;

        EntryNotFound(String message, String commit) {
            super(message);
            // the header becomes a cache path: only a commit hash is recorded
            this.commit = commit != null && COMMIT_HASH.matcher(commit).matches() ? commit : null;
        }
    }

    /** The hub could not be asked (connection failure, timeout, server error): the cache may still answer. */
    private static final class Unreachable extends IOException {
        Unreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private HttpClient client() {
        HttpClient c = client;
        if (c == null) {
            synchronized (this) {
                if (client == null) {
                    client = HttpClient.newBuilder()
                            .followRedirects(HttpClient.Redirect.NEVER) // followed by hand: see fetch()
                            .version(HttpClient.Version.HTTP_1_1)
                            .connectTimeout(Duration.ofSeconds(10))
                            .build();
                }
                c = client;
            }
        }
        return c;
    }

    private HttpRequest.Builder request(URI url, boolean withToken) {
        HttpRequest.Builder b = HttpRequest.newBuilder(url)
                .timeout(Duration.ofSeconds(60))
                .header("User-Agent", "finsent/0.1 (java; huggingface_hub-compatible)");
        if (withToken && token != null) b.header("Authorization", "Bearer " + token);
        return b;
    }

    private <T> HttpResponse<T> send(HttpRequest req, HttpResponse.BodyHandler<T> handler) throws IOException {
        try {
            return client().send(req, handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while talking to " + req.uri().getHost());
        } catch (IOException e) {
            String what = e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": "
                    + e.getMessage();
            throw new Unreachable(req.method() + " " + req.uri() + " failed: " + what, e);
        }
    }

    /** Python's get_hf_file_metadata: HEAD, follow relative redirects only, read commit / etag / size / location. */
    private Metadata head(URI url, RepoType type, String repoId, String rev, String filename) throws IOException {
        URI u = url;
        for (int hop = 0; ; hop++) {
            HttpRequest req = request(u, sameOrigin(u, endpoint)).method("HEAD", HttpRequest.BodyPublishers.noBody())
                    .header("Accept-Encoding", "identity").build();
            HttpResponse<Void> resp = send(req, HttpResponse.BodyHandlers.discarding());
            int status = resp.statusCode();
            if (status >= 300 && status < 400) {
                String loc = resp.headers().firstValue("Location").orElse(null);
                if (loc == null) throw new IOException("HEAD " + u + " answered " + status + " without a Location");
                URI target = u.resolve(loc);
                if (URI.create(loc).getHost() == null) { // relative: a renamed repository, same host
                    if (hop >= MAX_REDIRECTS) throw new IOException("too many redirects from " + url);
                    u = target;
                    continue;
                }
                return metadata(resp.headers(), target, u);
            }
            raiseForStatus(status, resp.headers(), u, type, repoId, rev, filename);
            return metadata(resp.headers(), u, u);
        }
    }

    private static Metadata metadata(HttpHeaders h, URI location, URI asked) throws IOException {
        String commit = h.firstValue("X-Repo-Commit").orElse(null);
        String etag = h.firstValue("X-Linked-Etag").or(() -> h.firstValue("ETag")).map(HfHub::normalizeEtag)
                .orElse(null);
        if (commit == null || etag == null || etag.isEmpty()) {
            throw new IOException(asked + " did not answer like a Hugging Face hub (no X-Repo-Commit or ETag header):"
                    + " check HF_ENDPOINT and any proxy or firewall between this machine and the hub");
        }
        if (!COMMIT_HASH.matcher(commit).matches() || !SAFE_ETAG.matcher(etag).matches()) {
            throw new IOException(asked + " answered an unexpected commit '" + commit + "' or ETag '" + etag + "'");
        }
        long size = h.firstValue("X-Linked-Size").or(() -> h.firstValue("Content-Length"))
                .map(Long::parseLong).orElse(-1L);
        return new Metadata(commit, etag, size, location);
    }

    /** Strips a weak marker and quotes: {@code W/"abc"} -> {@code abc}. */
    static String normalizeEtag(String etag) {
        String e = etag.strip();
        if (e.startsWith("W/")) e = e.substring(2);
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) e = e.substring(1, e.length() - 1);
        return e;
    }

    /**
     * GETs the blob into blobs/&lt;etag&gt;.incomplete (resuming a partial one with Range), verifies size and, for
     * LFS files, SHA-256, then moves it into place. Redirects are followed by hand so that the token never leaves
     * the hub's own host (the JDK client would forward it to the CDN).
     */
    private void fetch(Metadata meta, Path blob, RepoType type, String repoId, String rev, String filename)
            throws IOException {
        Path incomplete = blob.resolveSibling(blob.getFileName() + ".incomplete");
        URI u = meta.location;
        int hops = 0;
        while (true) {
            long have = Files.exists(incomplete) ? Files.size(incomplete) : 0;
            HttpRequest.Builder b = request(u, sameOrigin(u, endpoint)).GET();
            if (have > 0) b.header("Range", "bytes=" + have + "-");
            HttpResponse<InputStream> resp = send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            int status = resp.statusCode();
            if (status < 200 || status >= 300) {
                resp.body().close();
                if (status >= 300 && status < 400) {
                    String loc = resp.headers().firstValue("Location")
                            .orElseThrow(() -> new IOException("GET " + resp.uri() + " answered " + status
                                    + " without a Location"));
                    if (++hops > MAX_REDIRECTS) throw new IOException("too many redirects from " + meta.location);
                    u = u.resolve(loc);
                    continue;
                }
                if (status == 416 && have > 0) { // the partial file does not fit the blob: start again
                    Files.delete(incomplete);
                    continue;
                }
                raiseForStatus(status, resp.headers(), u, type, repoId, rev, filename);
            }
            boolean resumed = have > 0 && status == 206;
            if (resumed && contentRangeStart(resp.headers()) != have) { // not the range asked for: start again
                resp.body().close();
                Files.delete(incomplete);
                continue;
            }
            // 200 to a ranged request means the server sent the whole file: overwrite the partial one.
            try (InputStream body = resp.body();
                 OutputStream out = Files.newOutputStream(incomplete, StandardOpenOption.CREATE,
                         StandardOpenOption.WRITE, resumed ? StandardOpenOption.APPEND
                                 : StandardOpenOption.TRUNCATE_EXISTING)) {
                body.transferTo(out);
            } catch (IOException e) {
                throw new IOException("download of " + u + " broke off (" + e.getMessage() + "); run again to "
                        + "resume from " + incomplete, e);
            }
            break;
        }
        long got = Files.size(incomplete);
        if (meta.size >= 0 && got != meta.size) {
            if (got > meta.size) Files.delete(incomplete); // cannot be resumed into the right file
            throw new IOException("consistency check failed for " + filename + " of " + repoId + ": expected "
                    + meta.size + " bytes, got " + got + "; run again" + (got < meta.size ? " to resume" : ""));
        }
        if (SHA256.matcher(meta.etag).matches()) {
            String actual = sha256(incomplete);
            if (!actual.equals(meta.etag)) {
                Files.delete(incomplete);
                throw new IOException("SHA-256 of the downloaded " + filename + " of " + repoId + " is " + actual
                        + " but the hub announced " + meta.etag + "; the partial file was deleted, run again");
            }
        }
        try {
            Files.move(incomplete, blob, StandardCopyOption.ATOMIC_MOVE);
        } catch (java.nio.file.AtomicMoveNotSupportedException e) {
            Files.move(incomplete, blob, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static long contentRangeStart(HttpHeaders h) {
        return h.firstValue("Content-Range").map(CONTENT_RANGE_START::matcher).filter(Matcher::lookingAt)
                .map(m -> Long.parseLong(m.group(1))).orElse(-1L);
    }

    static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Python's hf_raise_for_status, with messages a user can act on. */
    private void raiseForStatus(int status, HttpHeaders h, URI url, RepoType type, String repoId, String rev,
                                String filename) throws IOException {
        if (status >= 200 && status < 300) return;
        String code = h.firstValue("X-Error-Code").orElse("");
        String serverMsg = h.firstValue("X-Error-Message").map(m -> " (hub: " + m + ")").orElse("");
        String what = type.word + " " + repoId;
        String page = endpoint + "/" + type.urlPrefix + repoId;
        String tokenHint = token == null
                ? "no token was sent: set HF_TOKEN to an access token (" + endpoint + "/settings/tokens) or run "
                + "`huggingface-cli login`"
                : "the token sent (HF_TOKEN or $HF_HOME/token) was refused or lacks access";
        switch (code) {
            case "EntryNotFound" -> throw new EntryNotFound(what + " has no file " + filename + " at revision " + rev
                    + serverMsg, h.firstValue("X-Repo-Commit").orElse(null));
            case "RevisionNotFound" -> throw new IOException("HTTP " + status + ": " + what + " has no revision '" + rev
                    + "': check the branch, tag or commit on " + page + serverMsg);
            case "RepoNotFound" -> throw new IOException("HTTP " + status + ": " + what + " was not found on "
                    + endpoint + ", or it is private and " + tokenHint + serverMsg);
            case "GatedRepo" -> throw new IOException("HTTP " + status + ": " + what + " is gated: accept its "
                    + "conditions on " + page + " while logged in, and " + (token == null ? tokenHint
                    : "make sure HF_TOKEN belongs to that account") + serverMsg);
            default -> { }
        }
        if (status == 404) {
            // No error code: the hub's file 404 (its repo/revision 404s carry a code).
            throw new EntryNotFound(what + " has no file " + filename + " at revision " + rev + serverMsg,
                    h.firstValue("X-Repo-Commit").orElse(null));
        }
        if (status == 401) {
            throw new IOException("HTTP 401 Unauthorized for " + url + ": " + what + " is private or gated and "
                    + tokenHint + serverMsg);
        }
        if (status == 403) {
            throw new IOException("HTTP 403 Forbidden for " + url + ": " + tokenHint + "; for a gated " + type.word
                    + " accept its conditions on " + page + serverMsg);
        }
        if (status >= 500) {
            throw new Unreachable("HTTP " + status + " from " + url + serverMsg, null);
        }
        throw new IOException("HTTP " + status + " for " + url + serverMsg);
    }

    // ---------------------------------------------------------------------------------------------- helpers

    private static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost() != null
                && a.getHost().equalsIgnoreCase(b.getHost()) && port(a) == port(b);
    }

    private static int port(URI u) {
        if (u.getPort() >= 0) return u.getPort();
        return "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    /** Python's urllib.parse.quote: unreserved bytes kept, '/' kept only in file paths, the rest %XX (UTF-8). */
    static String percentEncode(String s, boolean keepSlash) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            boolean keep = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || c == '-' || c == '_' || c == '.' || c == '~' || keepSlash && c == '/';
            if (keep) sb.append((char) c);
            else sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                    .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
        }
        return sb.toString();
    }

    private static void checkRepoId(String repoId) {
        if (repoId == null || !REPO_ID.matcher(repoId).matches() || repoId.contains("--") || repoId.contains("..")
                || repoId.startsWith("-") || repoId.startsWith(".") || repoId.endsWith("-") || repoId.endsWith(".")) {
            throw new IllegalArgumentException("not a Hugging Face repository id: '" + repoId
                    + "' (expected org/name, e.g. ProsusAI/finbert)");
        }
    }

    /** File names and revisions become cache paths: no absolute paths, backslashes or '..' segments. */
    private static void checkRelative(String s, String what) {
        if (s == null || s.isBlank()) throw new IllegalArgumentException(what + " is required");
        if (s.startsWith("/") || s.contains("\\") || s.endsWith("/") || s.contains("//")) {
            throw new IllegalArgumentException("invalid " + what + " '" + s + "'");
        }
        for (String part : s.split("/")) {
            if (part.equals("..") || part.equals(".")) {
                throw new IllegalArgumentException("invalid " + what + " '" + s + "': no '.' or '..' segments");
            }
        }
    }

    private static String nonBlank(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    private static Path expandHome(String p) {
        String s = p.strip();
        if (s.equals("~") || s.startsWith("~/")) s = System.getProperty("user.home") + s.substring(1);
        return Path.of(s);
    }
}
