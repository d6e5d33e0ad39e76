package org.finsent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Reading the item-per-line inputs of the commands (a file, or standard input for {@code -}). */
final class Inputs {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Inputs() {
    }

    /** How an input file holds its texts. */
    enum Format {
        /** {@code .jsonl} files are JSONL, anything else one text per line. */
        AUTO,
        /** One text per line. */
        LINES,
        /** One JSON object per line with a string field {@code text}: texts may hold line breaks. */
        JSONL;

        static Format parse(String s) {
            return switch (s.strip().toLowerCase(Locale.ROOT)) {
                case "auto" -> AUTO;
                case "lines", "text", "txt" -> LINES;
                case "jsonl" -> JSONL;
                default -> throw new IllegalArgumentException("--input-format must be auto, lines or jsonl, got '" + s + "'");
            };
        }
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

    /**
     * The texts of an input: its lines, or for JSONL ({@code .jsonl} under {@link Format#AUTO}) the {@code text} field
     * of each line's object (blank lines skipped), so that texts with line breaks survive.
     */
    static List<String> texts(Path file, Format format) throws IOException {
        List<String> lines = lines(file);
        boolean jsonl = format == Format.JSONL
                || format == Format.AUTO && file.getFileName() != null && file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".jsonl");
        if (!jsonl) return lines;
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (IOException e) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": not a JSON object (JSONL input: one {\"text\": ...} per line)");
            }
            JsonNode t = n == null ? null : n.get("text");
            if (t == null || !t.isTextual()) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": no string field \"text\" (JSONL input: one {\"text\": ...} per line)");
            }
            texts.add(t.asText());
        }
        return texts;
    }

    /**
     * Refuses an output that is the input file (the same file through any relative path or symbolic link), which the
     * command would overwrite while reading it.
     */
    static void refuseOutputOverInput(Path input, Path output) throws IOException {
        if (input == null || output == null || input.toString().equals("-") || output.toString().equals("-")) return;
        if (Files.exists(input) && Files.exists(output) && Files.isSameFile(input, output)) {
            throw new IllegalArgumentException("--output " + output + " is the input file " + input
                    + ": writing it would destroy the input; choose another output file");
        }
    }
}
