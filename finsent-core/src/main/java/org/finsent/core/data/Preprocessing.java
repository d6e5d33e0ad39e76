package org.finsent.core.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * Optional text clean-up, as a composable chain of {@code UnaryOperator<String>} steps, <b>off by default</b>
 * ({@link #none()}).
 *
 * <p><b>Why off for transformer models.</b> BERT's WordPiece and GPT-2's byte-level BPE were trained on natural
 * text, and the pretrained weights encode how words, case, punctuation and numbers interact. The classic
 * bag-of-words clean-up removes exactly what a financial sentiment model needs: stop-word removal deletes
 * {@code not}, {@code no}, {@code nor}, {@code don't}, {@code didn't} (all in NLTK's list), so
 * <i>"profit did not rise"</i> becomes <i>"profit rise"</i>; letters-only deletes the figures that carry the
 * sentiment, so <i>"rose to EUR 13.1 mn from EUR 8.7 mn"</i> becomes <i>"rose to EUR mn from EUR mn"</i>; lower-casing
 * throws away information a cased model (GPT-2, cased BERT) uses. The steps exist for the classical baselines
 * (TF-IDF + linear models) that the study compares against, and to reproduce papers that used them.
 *
 * <p><b>Lemmatisation is deliberately not offered</b>: it is another bag-of-words normalisation that transformer
 * models do not need (their subword vocabularies already share pieces between inflected forms), and no maintained
 * pure-Java English lemmatiser would justify a dependency for a step the models should not use.
 *
 * <p>Steps run in the order added; order matters (stop words are matched on whitespace-separated tokens, so put
 * {@link #lettersOnly()} and {@link #lowerCase()} first to strip punctuation and case before matching).
 */
public final class Preprocessing implements UnaryOperator<String> {

    private static final Preprocessing NONE = new Preprocessing(List.of());

    /** Tags such as {@code <br>}, {@code <a href="...">}, {@code </p>}, {@code <br/>}, and comments; not "a < b > c". */
    private static final Pattern HTML_TAG = Pattern.compile("<!--.*?-->|</?[A-Za-z][A-Za-z0-9-]*(?:\\s[^<>]*)?/?>", Pattern.DOTALL);
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    private static volatile Set<String> nltkStopWords;

    private final List<UnaryOperator<String>> steps;

    private Preprocessing(List<UnaryOperator<String>> steps) {
        this.steps = List.copyOf(steps);
    }

    /** The identity: what transformer fine-tuning should use. */
    public static Preprocessing none() {
        return NONE;
    }

    /** A pipeline of the given steps, in order. */
    @SafeVarargs
    public static Preprocessing of(UnaryOperator<String>... steps) {
        Preprocessing p = NONE;
        for (UnaryOperator<String> s : steps) p = p.then(s);
        return p;
    }

    /** A new pipeline with {@code step} appended; this one is unchanged (pipelines are immutable and shareable). */
    public Preprocessing then(UnaryOperator<String> step) {
        Objects.requireNonNull(step, "step");
        List<UnaryOperator<String>> s = new ArrayList<>(steps);
        s.add(step);
        return new Preprocessing(s);
    }

    /** Whether this pipeline leaves every text unchanged (no steps). */
    public boolean isIdentity() {
        return steps.isEmpty();
    }

    @Override
    public String apply(String text) {
        String t = text;
        for (UnaryOperator<String> s : steps) t = s.apply(t);
        return t;
    }

    /** The examples with their texts transformed; labels and sources are kept, so results stay traceable. */
    public List<Example> apply(List<Example> examples) {
        if (isIdentity()) return List.copyOf(examples);
        List<Example> out = new ArrayList<>(examples.size());
        for (Example e : examples) out.add(e.withText(apply(e.text())));
        return List.copyOf(out);
    }

    /**
     * Replaces HTML/XML tags and comments by a space. A space rather than nothing because tags often separate
     * words ({@code Profit<br>rose}); only tag-shaped text ({@code <} followed by a letter or {@code /}) is
     * touched, so comparisons such as {@code EPS < 0.5 > guidance} survive. Entities ({@code &amp;}) are left as they are.
     */
    public static UnaryOperator<String> stripHtml() {
        return s -> HTML_TAG.matcher(s).replaceAll(" ");
    }

    /**
     * Keeps letters (any script, so Finnish {@code ä}/{@code ö} survive) and turns everything else into spaces,
     * then collapses runs of whitespace and trims. Digits, currency signs and punctuation are removed.
     */
    public static UnaryOperator<String> lettersOnly() {
        return s -> {
            StringBuilder sb = new StringBuilder(s.length());
            s.codePoints().forEach(cp -> {
                if (Character.isLetter(cp)) sb.appendCodePoint(cp);
                else sb.append(' ');
            });
            return WHITESPACE.matcher(sb).replaceAll(" ").strip();
        };
    }

    /** Lower-cases with {@link Locale#ROOT}, so the result does not depend on the machine's locale (Turkish dotless i). */
    public static UnaryOperator<String> lowerCase() {
        return s -> s.toLowerCase(Locale.ROOT);
    }

    /** Removes NLTK's English stop words ({@link #nltkEnglishStopWords()}). */
    public static UnaryOperator<String> removeStopWords() {
        return removeStopWords(nltkEnglishStopWords());
    }

    /**
     * Splits on whitespace, drops tokens whose {@link Locale#ROOT} lower-case form is in {@code stopWords}, and
     * joins the rest with single spaces. Matching is per whole token: {@code "not,"} is not {@code "not"}.
     */
    public static UnaryOperator<String> removeStopWords(Set<String> stopWords) {
        Set<String> words = Set.copyOf(stopWords);
        return s -> {
            StringBuilder sb = new StringBuilder(s.length());
            for (String tok : WHITESPACE.split(s.strip())) {
                if (tok.isEmpty() || words.contains(tok.toLowerCase(Locale.ROOT))) continue;
                if (sb.length() > 0) sb.append(' ');
                sb.append(tok);
            }
            return sb.toString();
        };
    }

    /**
     * NLTK's English stop-word list (the 179-word list of {@code nltk_data/corpora/stopwords/english}), loaded from
     * the bundled resource {@code nltk_english_stopwords.txt}, in NLTK's order. It is what "NLTK stop-word removal"
     * in the papers this project reproduces means, which is why it is bundled rather than replaced by another list.
     */
    public static Set<String> nltkEnglishStopWords() {
        Set<String> s = nltkStopWords;
        if (s == null) {
            s = loadStopWords("nltk_english_stopwords.txt");
            nltkStopWords = s;
        }
        return s;
    }

    private static Set<String> loadStopWords(String resource) {
        try (InputStream in = Preprocessing.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("missing resource " + resource + " next to " + Preprocessing.class.getName());
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            Set<String> words = new LinkedHashSet<>();
            for (String line; (line = r.readLine()) != null; ) {
                String w = line.strip();
                if (w.isEmpty() || w.startsWith("#")) continue;
                words.add(w);
            }
            return java.util.Collections.unmodifiableSet(words);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
