/**
 * Parameter-efficient fine-tuning on FinSent models, written by hand with forward and backward side by side:
 * {@link org.finsent.peft.LoraLinear LoRA}, the Pfeiffer {@link org.finsent.peft.BottleneckAdapter bottleneck
 * adapter}, plus full fine-tuning and head-only baselines. {@link org.finsent.peft.Peft#apply} freezes the base,
 * inserts the modules (any combination) and reports the trainable parameters the way Python's PEFT prints them;
 * {@link org.finsent.peft.LoraFiles} saves and loads LoRA in PEFT's own file format.
 */
package org.finsent.peft;
