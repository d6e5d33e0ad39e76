package org.finsent.core.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Files written through a temporary sibling get the umask's permissions, not createTempFile's owner-only 0600. */
class AtomicFilesTest {
    @TempDir
    Path tmp;

    /** What a plain new file gets here: the permissions the process's umask gives. */
    static Set<PosixFilePermission> umaskPermissions(Path dir) throws Exception {
        Path probe = Files.createFile(dir.resolve("probe"));
        try {
            return Files.getPosixFilePermissions(probe);
        } finally {
            Files.delete(probe);
        }
    }

    @Test
    void writtenFilesHaveTheUmaskPermissionsAndNoTemporaryFileIsLeft() throws Exception {
        assumeTrue(tmp.getFileSystem().supportedFileAttributeViews().contains("posix"), "not a POSIX file system");
        Set<PosixFilePermission> expected = umaskPermissions(tmp);
        Path json = tmp.resolve("finsent.json"), st = tmp.resolve("model.safetensors");
        AtomicFiles.write(json, t -> Files.writeString(t, "{}", StandardCharsets.UTF_8));
        StateDict sd = new StateDict();
        sd.put(TensorData.of("w", new float[]{1, 2}, 2));
        SafeTensors.write(st, sd, Map.of("format", "pt"));
        // written twice: replacing an existing file keeps the same permissions
        SafeTensors.write(st, sd, Map.of("format", "pt"));
        assertEquals(expected, Files.getPosixFilePermissions(json));
        assertEquals(expected, Files.getPosixFilePermissions(st));
        assertEquals("{}", Files.readString(json));
        try (var files = Files.list(tmp)) {
            assertEquals(Set.of("finsent.json", "model.safetensors"), files.map(p -> p.getFileName().toString())
                    .collect(java.util.stream.Collectors.toSet()), "no temporary file left behind");
        }
        // under the usual umask 022 the files are group/other readable (createTempFile made them 0600)
        assumeTrue(expected.contains(PosixFilePermission.OTHERS_READ), "umask hides files from others: " + expected);
        for (Path p : new Path[]{json, st}) {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
            assertTrue(perms.contains(PosixFilePermission.GROUP_READ) && perms.contains(PosixFilePermission.OTHERS_READ), p + " " + perms);
        }
    }

    @Test
    void aFailedWriteLeavesNeitherTheTargetNorATemporaryFile() throws Exception {
        Path f = tmp.resolve("x.json");
        try {
            AtomicFiles.write(f, t -> {
                Files.writeString(t, "half");
                throw new java.io.IOException("disk full");
            });
        } catch (java.io.IOException expected) {
            assertEquals("disk full", expected.getMessage());
        }
        try (var files = Files.list(tmp)) {
            assertEquals(0, files.count());
        }
    }
}
