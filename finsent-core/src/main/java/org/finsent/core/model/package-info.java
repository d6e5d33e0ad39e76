/**
 * BERT and GPT-2 with Hugging Face's parameter names, hand-written forward and backward, and
 * {@link org.finsent.core.model.Pretrained} to load and save model directories.
 *
 * <p>Proven against PyTorch 2.11 + Transformers 5.17 ({@code GoldenModelTest}, golden/, tiny random FP64 models,
 * eager attention): {@code BertForSequenceClassification}, {@code GPT2ForSequenceClassification} (right and left
 * padding, with {@link org.finsent.core.model.Gpt2Model#sequentialPositions}) and {@code GPT2LMHeadModel} — every
 * hidden state ({@code hiddenStates()}), logits, loss and every parameter's gradient to 1e-10 of scale (measured
 * ≤ 2e-14; the LM loss and gradients, FP32 in Transformers, to FP32 precision); the same weights from
 * {@code pytorch_model.bin} give bit-identical logits, FP32 / FP16 / BF16 files logits within 16 unit round-offs.
 */
package org.finsent.core.model;
