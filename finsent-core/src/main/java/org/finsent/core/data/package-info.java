/**
 * Data sets in, {@link org.finsent.core.data.Example} lists out: readers for the study's two corpora in their
 * published formats, generic CSV / JSONL readers, stratified duplicate-safe splits, and optional (off by default)
 * classical text preprocessing.
 *
 * <ul>
 *   <li>{@link org.finsent.core.data.FinancialPhraseBank}: {@code Sentences_*Agree.txt} ({@code sentence@label},
 *       ISO-8859-1) and the downloaded {@code FinancialPhraseBank-v1.0.zip};</li>
 *   <li>{@link org.finsent.core.data.TwitterFinancialNews}: {@code sent_train.csv} / {@code sent_valid.csv}, with
 *       the file's 0 bearish / 1 bullish / 2 neutral remapped to {@link org.finsent.core.data.Sentiment} ids;</li>
 *   <li>{@link org.finsent.core.data.CsvDataset}, {@link org.finsent.core.data.JsonlDataset}: any text + label
 *       file with configurable columns and label map;</li>
 *   <li>{@link org.finsent.core.data.Splits}: stratified train / validation / test splits that never put copies of
 *       one text in two splits;</li>
 *   <li>{@link org.finsent.core.data.Preprocessing}: HTML stripping, letters-only, lower-casing, NLTK stop words.</li>
 * </ul>
 * Every reader reports a bad row with {@code file:line}; {@link org.finsent.core.data.BadRowPolicy} chooses between
 * failing ({@link org.finsent.core.data.DatasetException}, the default) and skipping with a count. No data ships
 * with the project: the data sets' licences (FinancialPhraseBank is CC BY-NC-SA) leave that to the user.
 */
package org.finsent.core.data;
