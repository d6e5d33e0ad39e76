package org.finsent.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/** Reading the line-per-item inputs of the commands (a file, or standard input for {@code -}). */
final class Inputs {
    private Inputs() {
    }

    /** The lines of a UTF-8 file, or of stdin when {@code file} is {@code -}; a trailing newline adds no line. */
    static List<String> lines(Path file) throws IOException {
        if (file.toString().equals("-")) {
            BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            return r.lines().toList();
        }
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "input file not found");
        return Files.readAllLines(file, StandardCharsets.UTF_8);
    }
}
