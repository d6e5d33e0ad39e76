package org.finsent.core.hub;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local stand-in for huggingface.co serving the hub's URL layout and headers, modelled on what the real hub answers:
 * {@code HEAD/GET /[datasets/]org/name/resolve/<rev>/<file>} with {@code X-Repo-Commit}; regular files with
 * {@code ETag} = git blob sha1; LFS files answered with a 302 to a CDN URL on another host ({@code 127.0.0.1} while
 * the hub is {@code localhost}) with {@code X-Linked-Etag} = sha256 and {@code X-Linked-Size}; the CDN honours
 * {@code Range}; errors carry {@code X-Error-Code} (RepoNotFound 401, RevisionNotFound 404, EntryNotFound 404).
 * Every request is recorded. Used by the hub client's tests and the CLI's.
 */
public final class FakeHub implements AutoCloseable {
    /** One request as the server saw it. */
    public record Seen(String method, String host, String rawPath, String authorization, String range) {}

    private static final Pattern RESOLVE = Pattern.compile("/((?:datasets/)?[^/]+/[^/]+)/resolve/([^/]+)/(.+)");
    private static final Pattern CDN = Pattern.compile("/cdn/([0-9a-f]{64})");

    private final HttpServer server;
    private final List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
    /** url repo ("org/name" or "datasets/org/name") -> branch/tag -> commit. */
    private final Map<String, Map<String, String>> refs = new HashMap<>();
    /** url repo -> commit -> file -> content. */
    private final Map<String, Map<String, Map<String, byte[]>>> files = new HashMap<>();
    private final Map<String, byte[]> lfsBlobs = new HashMap<>();
    private final Set<String> lfsNames = new HashSet<>();
    private final Map<String, String> renamed = new HashMap<>();
    private final Map<String, String> privateRepos = new HashMap<>();
    private final Set<String> truncateOnce = new HashSet<>();
    private final Set<String> corrupt = new HashSet<>();
    private boolean ignoreRange;

    public FakeHub() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            try (ex) {
                handle(ex);
            } catch (RuntimeException e) {
                if (ex.getResponseCode() == -1) ex.sendResponseHeaders(500, -1);
            }
        });
        server.start();
    }

    /** The hub's root, {@code http://localhost:<port>}. */
    public URI endpoint() {
        return URI.create("http://localhost:" + server.getAddress().getPort());
    }

    /** The CDN's root: the same server under another host name. */
    public URI cdn() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    public synchronized FakeHub branch(String urlRepo, String branch, String commit) {
        refs.computeIfAbsent(urlRepo, k -> new HashMap<>()).put(branch, commit);
        files.computeIfAbsent(urlRepo, k -> new HashMap<>()).computeIfAbsent(commit, k -> new HashMap<>());
        return this;
    }

    /** A file stored in git (ETag = git blob sha1). */
    public synchronized FakeHub file(String urlRepo, String commit, String name, byte[] content) {
        files.computeIfAbsent(urlRepo, k -> new HashMap<>()).computeIfAbsent(commit, k -> new HashMap<>())
                .put(name, content);
        return this;
    }

    /** A file stored in LFS (served from the CDN host; etag = sha256). */
    public synchronized FakeHub lfsFile(String urlRepo, String commit, String name, byte[] content) {
        file(urlRepo, commit, name, content);
        lfsBlobs.put(sha256(content), content);
        lfsNames.add(urlRepo + "@" + commit + "/" + name);
        return this;
    }

    /** Requests for {@code from} answer a relative 307 to {@code to}, as the hub does for renamed repositories. */
    public synchronized FakeHub rename(String from, String to) {
        renamed.put(from, to);
        return this;
    }

    /** Requests without {@code Bearer token} get the hub's 401 RepoNotFound. */
    public synchronized FakeHub privateRepo(String urlRepo, String token) {
        privateRepos.put(urlRepo, token);
        return this;
    }

    /** The next CDN GET of this blob sends half of the bytes it announced, then hangs up. */
    public synchronized FakeHub truncateOnce(String sha256) {
        truncateOnce.add(sha256);
        return this;
    }

    /** The CDN answers every GET with the whole file (200), as servers without range support do. */
    public synchronized FakeHub ignoreRange() {
        ignoreRange = true;
        return this;
    }

    /** The CDN serves this blob with one byte flipped (same size). */
    public synchronized FakeHub corrupt(String sha256) {
        corrupt.add(sha256);
        return this;
    }

    public List<Seen> seen() {
        synchronized (seen) {
            return List.copyOf(seen);
        }
    }

    public void clearSeen() {
        seen.clear();
    }

    @Override
    public void close() {
        server.stop(0);
    }

    public static String sha256(byte[] b) {
        return hex("SHA-256", b);
    }

    /** git's blob id: sha1("blob <len>\0" + content). */
    public static String gitSha1(byte[] b) {
        byte[] head = ("blob " + b.length + "\0").getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[head.length + b.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(b, 0, all, head.length, b.length);
        return hex("SHA-1", all);
    }

    private static String hex(String algo, byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algo).digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private synchronized void handle(HttpExchange ex) throws IOException {
        Headers in = ex.getRequestHeaders();
        String rawPath = ex.getRequestURI().getRawPath();
        seen.add(new Seen(ex.getRequestMethod(), in.getFirst("Host"), rawPath, in.getFirst("Authorization"),
                in.getFirst("Range")));
        boolean head = ex.getRequestMethod().equals("HEAD");
        Headers out = ex.getResponseHeaders();

        Matcher cdn = CDN.matcher(rawPath);
        if (cdn.matches()) {
            serveBlob(ex, cdn.group(1), head);
            return;
        }
        Matcher m = RESOLVE.matcher(rawPath);
        if (!m.matches()) {
            ex.sendResponseHeaders(404, -1);
            return;
        }
        String repo = m.group(1);
        String rawRev = m.group(2);
        String rev = URLDecoder.decode(rawRev, StandardCharsets.UTF_8);
        String name = URLDecoder.decode(m.group(3), StandardCharsets.UTF_8);
        if (renamed.containsKey(repo)) {
            out.set("Location", "/" + renamed.get(repo) + "/resolve/" + rawRev + "/" + m.group(3));
            ex.sendResponseHeaders(307, -1);
            return;
        }
        String needed = privateRepos.get(repo);
        if (!files.containsKey(repo) || needed != null && !("Bearer " + needed).equals(in.getFirst("Authorization"))) {
            error(ex, 401, "RepoNotFound", "Repository not found");
            return;
        }
        String commit = refs.get(repo).getOrDefault(rev, files.get(repo).containsKey(rev) ? rev : null);
        if (commit == null) {
            error(ex, 404, "RevisionNotFound", "Invalid rev id: " + rev);
            return;
        }
        out.set("X-Repo-Commit", commit);
        byte[] content = files.get(repo).get(commit).get(name);
        if (content == null) {
            error(ex, 404, "EntryNotFound", "Entry not found");
            return;
        }
        String gitEtag = gitSha1(content);
        if (lfsNames.contains(repo + "@" + commit + "/" + name)) {
            String sha = sha256(content);
            out.set("ETag", "\"" + gitEtag + "\""); // the pointer file's id; X-Linked-Etag wins
            out.set("X-Linked-Etag", "\"" + sha + "\"");
            out.set("X-Linked-Size", Long.toString(content.length));
            out.set("Location", cdn() + "/cdn/" + sha);
            ex.sendResponseHeaders(302, -1);
            return;
        }
        out.set("ETag", "W/\"" + gitEtag + "\"");
        send(ex, 200, content, head);
    }

    private void serveBlob(HttpExchange ex, String sha, boolean head) throws IOException {
        byte[] content = lfsBlobs.get(sha);
        if (content == null) {
            ex.sendResponseHeaders(404, -1);
            return;
        }
        if (corrupt.contains(sha)) {
            content = content.clone();
            content[content.length / 2] ^= 1;
        }
        String range = ex.getRequestHeaders().getFirst("Range");
        int from = 0;
        int status = 200;
        if (range != null && !ignoreRange) {
            Matcher r = Pattern.compile("bytes=(\\d+)-").matcher(range);
            if (!r.matches()) throw new IllegalStateException("unexpected Range " + range);
            from = Integer.parseInt(r.group(1));
            if (from >= content.length) {
                ex.getResponseHeaders().set("Content-Range", "bytes */" + content.length);
                ex.sendResponseHeaders(416, -1);
                return;
            }
            status = 206;
            ex.getResponseHeaders().set("Content-Range",
                    "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
        }
        byte[] part = java.util.Arrays.copyOfRange(content, from, content.length);
        if (!head && truncateOnce.remove(sha)) {
            ex.sendResponseHeaders(status, part.length);
            OutputStream os = ex.getResponseBody();
            os.write(part, 0, part.length / 2);
            os.flush();
            // Hang up mid-body: the client sees fewer bytes than Content-Length announced.
            throw new IllegalStateException("truncated on purpose");
        }
        send(ex, status, part, head);
    }

    private static void error(HttpExchange ex, int status, String code, String message) throws IOException {
        ex.getResponseHeaders().set("X-Error-Code", code);
        ex.getResponseHeaders().set("X-Error-Message", message);
        ex.sendResponseHeaders(status, -1);
    }

    private static void send(HttpExchange ex, int status, byte[] body, boolean head) throws IOException {
        if (head) {
            // HEAD: the real length in Content-Length, no body.
            ex.getResponseHeaders().set("Content-Length", Long.toString(body.length));
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(body);
        }
    }
}
