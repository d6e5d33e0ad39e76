package org.finsent.core.hub;

import org.finsent.core.hub.FakeHub.Seen;
import org.finsent.core.hub.HfHub.RepoType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link HfHub} against a local server with the hub's URL layout and headers; never the real network. */
class HfHubTest {
    static final String C1 = "1111111111111111111111111111111111111111";
    static final String C2 = "2222222222222222222222222222222222222222";
    static final byte[] CONFIG = "{\"model_type\": \"bert\"}".getBytes(StandardCharsets.UTF_8);
    static final byte[] CONFIG_OLD = "{\"model_type\": \"bert\", \"old\": true}".getBytes(StandardCharsets.UTF_8);
    static final byte[] WEIGHTS = randomBytes(100_003, 7);
    static final String TOKEN = "hf_test_token";

    @TempDir
    Path tmp;
    FakeHub hub;
    Path cache;

    static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @BeforeEach
    void start() throws IOException {
        hub = new FakeHub()
                .branch("org/model", "main", C2)
                .file("org/model", C2, "config.json", CONFIG)
                .lfsFile("org/model", C2, "model.safetensors", WEIGHTS)
                .branch("org/model", "v1", C1)
                .file("org/model", C1, "config.json", CONFIG_OLD);
        cache = tmp.resolve("hub");
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    HfHub online(String token) {
        return new HfHub(hub.endpoint(), cache, false, token);
    }

    static byte[] read(Path p) throws IOException {
        return Files.readAllBytes(p);
    }

    @Test
    void downloadsIntoPythonsCacheLayoutAndKeepsTheTokenOffTheCdn() throws IOException {
        HfHub h = online(TOKEN);
        Path config = h.download(RepoType.MODEL, "org/model", null, "config.json");
        Path weights = h.download(RepoType.MODEL, "org/model", "main", "model.safetensors");

        Path repo = cache.resolve("models--org--model");
        assertEquals(repo.resolve("snapshots").resolve(C2).resolve("config.json"), config);
        assertEquals(repo.resolve("snapshots").resolve(C2).resolve("model.safetensors"), weights);
        assertArrayEquals(CONFIG, read(config));
        assertArrayEquals(WEIGHTS, read(weights));
        // Relative symlinks into blobs/, named by git sha1 (regular file, W/"..." stripped) and sha256 (LFS).
        assertTrue(Files.isSymbolicLink(config) && Files.isSymbolicLink(weights));
        assertEquals(Path.of("../../blobs/" + FakeHub.gitSha1(CONFIG)), Files.readSymbolicLink(config));
        assertEquals(Path.of("../../blobs/" + FakeHub.sha256(WEIGHTS)), Files.readSymbolicLink(weights));
        assertEquals(C2, Files.readString(repo.resolve("refs/main"))); // exactly the hash, no newline
        assertFalse(Files.exists(repo.resolve("blobs/" + FakeHub.sha256(WEIGHTS) + ".incomplete")));

        List<Seen> seen = hub.seen();
        String hubHost = hub.endpoint().getAuthority();
        String cdnHost = hub.cdn().getAuthority();
        // Python's order: HEAD (metadata) then GET; the hub gets the token, the CDN host never does.
        assertEquals(List.of("HEAD", "GET", "HEAD", "GET"), seen.stream().map(Seen::method).toList());
        assertEquals("/org/model/resolve/main/config.json", seen.get(0).rawPath());
        for (Seen s : seen) {
            if (s.host().equals(hubHost)) assertEquals("Bearer " + TOKEN, s.authorization(), s.toString());
            else assertNull(s.authorization(), s.toString());
        }
        Seen cdnGet = seen.get(3);
        assertEquals(cdnHost, cdnGet.host());
        assertEquals("/cdn/" + FakeHub.sha256(WEIGHTS), cdnGet.rawPath());
        // The LFS file's own resolve URL was only asked with HEAD (the 302 gave the CDN location).
        assertEquals("/org/model/resolve/" + C2 + "/model.safetensors", seen.get(2).rawPath());
    }

    @Test
    void aSecondCallIsServedFromTheCache() throws IOException {
        HfHub h = online(null);
        Path first = h.download(RepoType.MODEL, "org/model", "main", "config.json");
        hub.clearSeen();
        assertEquals(first, h.download(RepoType.MODEL, "org/model", "main", "config.json"));
        assertEquals(List.of(), hub.seen(), "same instance: the branch is resolved already");

        // A new client (a new process) asks the hub where main points now (one HEAD, as Python) but fetches nothing.
        assertEquals(first, online(null).download(RepoType.MODEL, "org/model", "main", "config.json"));
        assertEquals(List.of("HEAD"), hub.seen().stream().map(Seen::method).toList());
        hub.clearSeen();
        // A commit hash whose file is cached needs no request at all.
        assertEquals(first, online(null).download(RepoType.MODEL, "org/model", C2, "config.json"));
        assertEquals(List.of(), hub.seen());
    }

    @Test
    void aBlobAlreadyCachedIsLinkedNotDownloadedAgain() throws IOException {
        online(null).download(RepoType.MODEL, "org/model", "main", "model.safetensors");
        // The same content under another name at the same commit: one blob, a second link, no GET.
        hub.lfsFile("org/model", C2, "copy.safetensors", WEIGHTS);
        hub.clearSeen();
        Path copy = online(null).download(RepoType.MODEL, "org/model", "main", "copy.safetensors");
        assertArrayEquals(WEIGHTS, read(copy));
        assertEquals(List.of("HEAD"), hub.seen().stream().map(Seen::method).toList());
    }

    @Test
    void concurrentCallsForOneFileDownloadItOnce() throws Exception {
        HfHub h = online(null);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<Path>> calls = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                // A fresh client each time, as separate processes would be (no shared in-memory state).
                HfHub client = i == 0 ? h : online(null);
                calls.add(pool.submit(() -> client.download(RepoType.MODEL, "org/model", "main", "model.safetensors")));
            }
            for (var c : calls) assertArrayEquals(WEIGHTS, read(c.get()));
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, hub.seen().stream().filter(s -> s.method().equals("GET")).count(), hub.seen().toString());
    }

    @Test
    void aBrokenDownloadResumesWithRange() throws IOException {
        String sha = FakeHub.sha256(WEIGHTS);
        hub.truncateOnce(sha);
        HfHub h = online(null);
        IOException broken = assertThrows(IOException.class,
                () -> h.download(RepoType.MODEL, "org/model", "main", "model.safetensors"));
        assertTrue(broken.getMessage().contains("run again to resume"), broken.getMessage());
        Path incomplete = cache.resolve("models--org--model/blobs/" + sha + ".incomplete");
        long have = Files.size(incomplete);
        assertTrue(have > 0 && have < WEIGHTS.length, "partial file of " + have + " bytes");

        hub.clearSeen();
        Path weights = h.download(RepoType.MODEL, "org/model", "main", "model.safetensors");
        assertArrayEquals(WEIGHTS, read(weights));
        assertFalse(Files.exists(incomplete));
        Seen get = hub.seen().stream().filter(s -> s.method().equals("GET")).findFirst().orElseThrow();
        assertEquals("bytes=" + have + "-", get.range());
    }

    /** Leaves the first n bytes of the weights in blobs/&lt;sha256&gt;.incomplete, as an interrupted client does. */
    Path downloadOverAPartialFile(int n) throws IOException {
        Path incomplete = cache.resolve("models--org--model/blobs/" + FakeHub.sha256(WEIGHTS) + ".incomplete");
        Files.createDirectories(incomplete.getParent());
        Files.write(incomplete, java.util.Arrays.copyOf(WEIGHTS, n));
        Path weights = online(null).download(RepoType.MODEL, "org/model", "main", "model.safetensors");
        assertFalse(Files.exists(incomplete));
        return weights;
    }

    @Test
    void aPartialFileLeftByAnotherClientIsResumed() throws IOException {
        // Python leaves blobs/<etag>.incomplete behind when interrupted; its bytes are kept and completed.
        assertArrayEquals(WEIGHTS, read(downloadOverAPartialFile(40_000)));
        assertTrue(hub.seen().stream().anyMatch(s -> "bytes=40000-".equals(s.range())), hub.seen().toString());
    }

    @Test
    void aServerIgnoringRangeGetsThePartialFileReplacedNotAppended() throws IOException {
        hub.ignoreRange(); // answers the Range request with 200 and the whole file
        assertArrayEquals(WEIGHTS, read(downloadOverAPartialFile(40_000)));
    }

    @Test
    void aCorruptDownloadFailsTheSha256CheckAndLeavesNoBlob() throws IOException {
        String sha = FakeHub.sha256(WEIGHTS);
        hub.corrupt(sha);
        IOException e = assertThrows(IOException.class,
                () -> online(null).download(RepoType.MODEL, "org/model", "main", "model.safetensors"));
        assertTrue(e.getMessage().contains("SHA-256") && e.getMessage().contains(sha), e.getMessage());
        Path blobs = cache.resolve("models--org--model/blobs");
        assertFalse(Files.exists(blobs.resolve(sha)));
        assertFalse(Files.exists(blobs.resolve(sha + ".incomplete")));
    }

    @Test
    void aMissingFileIsFileNotFoundAndRememberedForOfflineUse() throws IOException {
        FileNotFoundException e = assertThrows(FileNotFoundException.class,
                () -> online(null).download(RepoType.MODEL, "org/model", "main", "vocab.json"));
        assertTrue(e.getMessage().contains("vocab.json") && e.getMessage().contains("org/model"), e.getMessage());
        Path repo = cache.resolve("models--org--model");
        assertTrue(Files.isRegularFile(repo.resolve(".no_exist").resolve(C2).resolve("vocab.json")));
        assertEquals(C2, Files.readString(repo.resolve("refs/main")));
        // Offline, the recorded miss still answers "absent" (so optional files can be probed), not "not cached".
        HfHub off = new HfHub(hub.endpoint(), cache, true, null);
        FileNotFoundException offMiss = assertThrows(FileNotFoundException.class,
                () -> off.download(RepoType.MODEL, "org/model", "main", "vocab.json"));
        assertEquals(FileNotFoundException.class, offMiss.getClass());
    }

    @Test
    void unknownRepoPrivateRepoAndUnknownRevisionSayWhatToDo() throws IOException {
        IOException noRepo = assertThrows(IOException.class,
                () -> online(null).download(RepoType.MODEL, "org/nope", "main", "config.json"));
        assertFalse(noRepo instanceof FileNotFoundException, "a missing repository is not a missing file");
        assertTrue(noRepo.getMessage().contains("401") && noRepo.getMessage().contains("org/nope")
                && noRepo.getMessage().contains("HF_TOKEN"), noRepo.getMessage());

        hub.branch("org/private", "main", C1).file("org/private", C1, "config.json", CONFIG).privateRepo("org/private",
                TOKEN);
        IOException denied = assertThrows(IOException.class,
                () -> online(null).download(RepoType.MODEL, "org/private", "main", "config.json"));
        assertTrue(denied.getMessage().contains("set HF_TOKEN"), denied.getMessage());
        IOException wrong = assertThrows(IOException.class,
                () -> online("hf_wrong").download(RepoType.MODEL, "org/private", "main", "config.json"));
        assertTrue(wrong.getMessage().contains("refused"), wrong.getMessage());
        assertArrayEquals(CONFIG, read(online(TOKEN).download(RepoType.MODEL, "org/private", "main", "config.json")));

        IOException noRev = assertThrows(IOException.class,
                () -> online(null).download(RepoType.MODEL, "org/model", "v9", "config.json"));
        assertFalse(noRev instanceof FileNotFoundException);
        assertTrue(noRev.getMessage().contains("no revision 'v9'"), noRev.getMessage());
    }

    @Test
    void aBranchAndACommitHashResolveToTheirOwnSnapshots() throws IOException {
        HfHub h = online(null);
        Path atTag = h.download(RepoType.MODEL, "org/model", "v1", "config.json");
        Path atCommit = h.download(RepoType.MODEL, "org/model", C1, "config.json");
        Path atMain = h.download(RepoType.MODEL, "org/model", "main", "config.json");
        Path repo = cache.resolve("models--org--model");
        assertEquals(repo.resolve("snapshots/" + C1 + "/config.json"), atTag);
        assertEquals(atTag, atCommit);
        assertEquals(repo.resolve("snapshots/" + C2 + "/config.json"), atMain);
        assertArrayEquals(CONFIG_OLD, read(atTag));
        assertArrayEquals(CONFIG, read(atMain));
        assertEquals(C1, Files.readString(repo.resolve("refs/v1")));
        assertEquals(C2, Files.readString(repo.resolve("refs/main")));
        assertFalse(Files.exists(repo.resolve("refs/" + C1)), "no ref is written for a commit hash");
    }

    @Test
    void aRevisionWithSlashesIsPercentEncodedAndItsRefNested() throws IOException {
        hub.branch("org/model", "refs/pr/1", C1);
        Path p = online(null).download(RepoType.MODEL, "org/model", "refs/pr/1", "config.json");
        assertArrayEquals(CONFIG_OLD, read(p));
        assertEquals("/org/model/resolve/refs%2Fpr%2F1/config.json", hub.seen().get(0).rawPath());
        assertEquals(C1, Files.readString(cache.resolve("models--org--model/refs/refs/pr/1")));
    }

    @Test
    void aDatasetRepoUsesTheDatasetsPrefixAndFolder() throws IOException {
        byte[] zip = randomBytes(5000, 11);
        hub.branch("datasets/takala/financial_phrasebank", "main", C1)
                .lfsFile("datasets/takala/financial_phrasebank", C1, "data/FinancialPhraseBank-v1.0.zip", zip);
        Path p = online(null).download(RepoType.DATASET, "takala/financial_phrasebank", null,
                "data/FinancialPhraseBank-v1.0.zip");
        Path repo = cache.resolve("datasets--takala--financial_phrasebank");
        assertEquals(repo.resolve("snapshots/" + C1 + "/data/FinancialPhraseBank-v1.0.zip"), p);
        assertEquals(Path.of("../../../blobs/" + FakeHub.sha256(zip)), Files.readSymbolicLink(p));
        assertArrayEquals(zip, read(p));
        assertEquals("/datasets/takala/financial_phrasebank/resolve/main/data/FinancialPhraseBank-v1.0.zip",
                hub.seen().get(0).rawPath());
    }

    @Test
    void aRenamedRepoIsFollowedOnTheSameHostWithTheToken() throws IOException {
        hub.rename("old-org/model", "org/model");
        Path p = online(TOKEN).download(RepoType.MODEL, "old-org/model", "main", "config.json");
        // Cached under the name asked for, as Python does.
        assertEquals(cache.resolve("models--old-org--model/snapshots/" + C2 + "/config.json"), p);
        assertArrayEquals(CONFIG, read(p));
        List<Seen> seen = hub.seen();
        assertEquals("/old-org/model/resolve/main/config.json", seen.get(0).rawPath());
        assertEquals("/org/model/resolve/main/config.json", seen.get(1).rawPath());
        assertEquals("Bearer " + TOKEN, seen.get(1).authorization());
    }

    /** The cache exactly as huggingface_hub lays it out, built by hand. */
    static Path pythonCache(Path cache, String folder, String commit, String file, byte[] content, String... refs)
            throws IOException {
        Path repo = cache.resolve(folder);
        String etag = FakeHub.sha256(content);
        Path blob = repo.resolve("blobs").resolve(etag);
        Files.createDirectories(blob.getParent());
        Files.write(blob, content);
        Path pointer = repo.resolve("snapshots").resolve(commit).resolve(file);
        Files.createDirectories(pointer.getParent());
        Files.createSymbolicLink(pointer, pointer.getParent().relativize(blob));
        for (String ref : refs) {
            Path r = repo.resolve("refs").resolve(ref);
            Files.createDirectories(r.getParent());
            Files.writeString(r, commit);
        }
        return pointer;
    }

    @Test
    void offlineFindsAPythonDownloadedModelWithoutAnyRequest() throws IOException {
        byte[] weights = randomBytes(3000, 3);
        Path pointer = pythonCache(cache, "models--ProsusAI--finbert", C1, "pytorch_model.bin", weights, "main",
                "refs/pr/2");
        HfHub off = new HfHub(hub.endpoint(), cache, true, null);
        assertEquals(pointer, off.download(RepoType.MODEL, "ProsusAI/finbert", null, "pytorch_model.bin"));
        assertEquals(pointer, off.download(RepoType.MODEL, "ProsusAI/finbert", C1, "pytorch_model.bin"));
        assertEquals(pointer, off.download(RepoType.MODEL, "ProsusAI/finbert", "refs/pr/2", "pytorch_model.bin"));
        assertArrayEquals(weights, read(pointer));
        assertEquals(List.of(), hub.seen());
    }

    @Test
    void offlineMissSaysWhatToDownloadAndWhereToPutIt() {
        HfHub off = new HfHub(hub.endpoint(), cache, true, null);
        HfHub.NotCachedException e = assertThrows(HfHub.NotCachedException.class,
                () -> off.download(RepoType.MODEL, "ProsusAI/finbert", null, "config.json"));
        String m = e.getMessage();
        assertTrue(m.contains("HF_HUB_OFFLINE is set"), m);
        assertTrue(m.contains("huggingface-cli download ProsusAI/finbert config.json --cache-dir " + cache), m);
        assertTrue(m.contains("copy the folder models--ProsusAI--finbert to " + cache.resolve("models--ProsusAI--finbert")),
                m);
        HfHub.NotCachedException d = assertThrows(HfHub.NotCachedException.class,
                () -> off.download(RepoType.DATASET, "takala/financial_phrasebank", "v2", "data/x.zip"));
        assertTrue(d.getMessage().contains("huggingface-cli download takala/financial_phrasebank data/x.zip "
                + "--repo-type dataset --revision v2"), d.getMessage());
        assertEquals(List.of(), hub.seen());
    }

    @Test
    void whenTheHubIsUnreachableTheCacheAnswers() throws IOException {
        online(null).download(RepoType.MODEL, "org/model", "main", "config.json");
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        HfHub dead = new HfHub(URI.create("http://127.0.0.1:" + deadPort), cache, false, null);
        assertArrayEquals(CONFIG, read(dead.download(RepoType.MODEL, "org/model", "main", "config.json")));
        HfHub.NotCachedException e = assertThrows(HfHub.NotCachedException.class,
                () -> dead.download(RepoType.MODEL, "org/model", "main", "model.safetensors"));
        assertTrue(e.getMessage().contains("could not be reached") && e.getMessage().contains("huggingface-cli"),
                e.getMessage());
    }

    @Test
    void badNamesAreRejectedBeforeAnyRequest() {
        HfHub h = online(null);
        assertThrows(IllegalArgumentException.class, () -> h.download(RepoType.MODEL, "not a repo", null, "x"));
        assertThrows(IllegalArgumentException.class, () -> h.download(RepoType.MODEL, "org/model", null, "../x"));
        assertThrows(IllegalArgumentException.class, () -> h.download(RepoType.MODEL, "org/model", "../../x", "f"));
        assertThrows(IllegalArgumentException.class, () -> h.download(RepoType.MODEL, "org/model", null, "/etc/x"));
        assertEquals(List.of(), hub.seen());
    }

    @Test
    void sourcesParseAsUsersWriteThem() {
        assertEquals(new HfHub.Source("ProsusAI/finbert", "main"), HfHub.Source.parse("hf:ProsusAI/finbert"));
        assertEquals(new HfHub.Source("openai-community/gpt2", "v1.0"),
                HfHub.Source.parse("openai-community/gpt2@v1.0"));
        assertEquals(new HfHub.Source("gpt2", C1), HfHub.Source.parse("hf:gpt2@" + C1)); // legacy id, no org
        assertEquals("hf:org/model@v1", HfHub.Source.parse("hf:org/model@v1").toString());
        assertThrows(IllegalArgumentException.class, () -> HfHub.Source.parse("hf:org/model@"));
        assertThrows(IllegalArgumentException.class, () -> HfHub.Source.parse("hf:a/b/c"));
        assertThrows(IllegalArgumentException.class, () -> HfHub.Source.parse("hf:org--x/y"));
    }

    @Test
    void environmentFollowsPythonsNamesAndPrecedence() throws IOException {
        Path hfHome = tmp.resolve("hf-home");
        Files.createDirectories(hfHome);
        Files.writeString(hfHome.resolve("token"), "hf_from_file\n");
        HfHub fromHome = HfHub.fromEnvironment(Map.of("HF_HOME", hfHome.toString())::get);
        assertEquals(hfHome.resolve("hub"), fromHome.cacheDir());
        assertEquals(HfHub.DEFAULT_ENDPOINT, fromHome.endpoint());
        assertFalse(fromHome.offline());

        HfHub explicit = HfHub.fromEnvironment(Map.of("HF_HOME", hfHome.toString(), "HF_HUB_CACHE",
                tmp.resolve("c").toString(), "HF_HUB_OFFLINE", "1", "HF_ENDPOINT", "https://mirror.example/")::get);
        assertEquals(tmp.resolve("c"), explicit.cacheDir());
        assertTrue(explicit.offline());
        assertEquals(URI.create("https://mirror.example"), explicit.endpoint());
        assertFalse(HfHub.fromEnvironment(Map.of("HF_HUB_OFFLINE", "0")::get).offline());

        // The token file is sent when HF_TOKEN is unset; HF_TOKEN wins over it.
        hub.privateRepo("org/model", "hf_from_file");
        Map<String, String> env = Map.of("HF_HOME", hfHome.toString(), "HF_HUB_CACHE", cache.toString(),
                "HF_ENDPOINT", hub.endpoint().toString());
        assertArrayEquals(CONFIG, read(HfHub.fromEnvironment(env::get).download(RepoType.MODEL, "org/model", null,
                "config.json")));
        assertEquals("Bearer hf_from_file", hub.seen().get(0).authorization());
        hub.clearSeen();
        Map<String, String> withToken = new java.util.HashMap<>(env);
        withToken.put("HF_TOKEN", "hf_env");
        assertThrows(IOException.class, () -> HfHub.fromEnvironment(withToken::get).download(RepoType.MODEL,
                "org/model", null, "vocab.txt"));
        assertEquals("Bearer hf_env", hub.seen().get(0).authorization());
    }

    @Test
    void aCraftedRefCannotReadOutsideTheCache() throws IOException {
        // refs/main pointing outside: "../../../../outside" would resolve snapshots/<ref>/config.json elsewhere
        Path outside = Files.createDirectories(cache.getParent().resolve("outside"));
        Files.writeString(outside.resolve("config.json"), "secret");
        Path repo = Files.createDirectories(cache.resolve("models--org--model/refs"));
        Path ref = Files.writeString(repo.resolve("main"), "../../../outside");
        HfHub off = new HfHub(hub.endpoint(), cache, true, null);
        IOException ex = assertThrows(IOException.class, () -> off.download(RepoType.MODEL, "org/model", null, "config.json"));
        assertTrue(ex.getMessage().contains(ref.toString()) && ex.getMessage().contains("not a 40-character commit hash"),
                ex.getMessage());
        Files.writeString(ref, "/etc");
        ex = assertThrows(IOException.class, () -> off.download(RepoType.MODEL, "org/model", null, "config.json"));
        assertTrue(ex.getMessage().contains("not a 40-character commit hash"), ex.getMessage());
    }

    @Test
    void aCorruptRefIsReplacedByWhatTheHubAnswers() throws IOException {
        Path repo = Files.createDirectories(cache.resolve("models--org--model/refs"));
        Files.writeString(repo.resolve("main"), "../../../outside");
        Path p = online(null).download(RepoType.MODEL, "org/model", null, "config.json");
        assertArrayEquals(CONFIG, read(p));
        assertEquals(C2, Files.readString(repo.resolve("main")));
    }
}
