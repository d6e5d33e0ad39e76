/**
 * The training loop: {@link org.finsent.train.TrainingArguments} (Hugging Face names and defaults),
 * {@link org.finsent.train.Batcher} (tokenize once, dynamic padding, length-grouped batches),
 * {@link org.finsent.train.Trainer} (forward, weighted cross-entropy, backward, gradient accumulation, clipping,
 * AdamW with an LR schedule, evaluation, best model, early stopping, {@code training_log.jsonl} /
 * {@code metrics.json}), {@link org.finsent.train.Checkpoint} (atomic, exactly resumable checkpoints),
 * {@link org.finsent.train.Predictor} (text to label and probabilities) and
 * {@link org.finsent.train.TrainingListener} for monitors and plots to plug into.
 *
 * <p>It lives in {@code finsent-peft} because it is used with PEFT models (and tested with them); it needs only
 * {@link org.finsent.core.model.SequenceClassifier}, so full fine-tuning of a base model works the same way.
 */
package org.finsent.train;
