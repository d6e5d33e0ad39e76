/**
 * Parameter-efficient fine-tuning on FinSent models, written by hand with forward and backward side by side:
 * {@link org.finsent.peft.LoraLinear LoRA}, the Pfeiffer {@link org.finsent.peft.BottleneckAdapter bottleneck
 * adapter}, plus full fine-tuning and head-only baselines. {@link org.finsent.peft.Peft#apply} freezes the base,
 * inserts the modules (any combination) and reports the trainable parameters the way Python's PEFT prints them;
 * {@link org.finsent.peft.LoraFiles} saves and loads LoRA in PEFT's own file format,
 * {@link org.finsent.peft.PromptLearningFiles} prefix and prompt tuning.
 *
 * <p>Proven against PEFT 0.21 + Transformers 5.17 ({@code GoldenPeftTest}, golden/peft_*, FP64): adapters saved by
 * PEFT load here and give PEFT's hidden states, logits, loss and trainable gradients (LoRA on BERT q/k/v and GPT-2's
 * fused Conv1D c_attn with {@code fan_in_fan_out}, prefix tuning with its projection MLP on BERT and GPT-2, prompt
 * tuning on BERT, and the modules_to_save head) to 1e-10 of scale (measured ≤ 2e-13); trainable counts equal PEFT's;
 * our files hold PEFT's tensor names, shapes, dtypes and bytes and the config fields PEFT reads.
 */
package org.finsent.peft;
