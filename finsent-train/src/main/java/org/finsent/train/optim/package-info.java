/**
 * Training arithmetic with Hugging Face / PyTorch semantics:
 *
 * <ul>
 *   <li>{@link org.finsent.train.optim.AdamW}: {@code torch.optim.AdamW} (decoupled weight decay), with Hugging Face
 *       Trainer's defaults and its no-decay rule for biases and LayerNorm weights;</li>
 *   <li>{@link org.finsent.train.optim.LrSchedule}: {@code transformers.get_scheduler}'s linear, cosine, constant and
 *       constant-with-warm-up schedules;</li>
 *   <li>{@link org.finsent.train.optim.GradClip}: {@code torch.nn.utils.clip_grad_norm_} and a NaN/Inf check;</li>
 *   <li>{@link org.finsent.train.optim.ClassWeights}: scikit-learn's {@code compute_class_weight("balanced")}.</li>
 * </ul>
 * Frozen parameters ({@code grad() == null}) are skipped everywhere and never get optimizer state.
 *
 * <p>Proven against PyTorch 2.11 / Transformers 5.17 (golden/optim, {@code GoldenAdamWTest}): AdamW with a
 * decay and a no-decay group under {@code get_linear_schedule_with_warmup}, every step's learning rate (exact), loss
 * and weights (≤ 2e-16 relative).
 */
package org.finsent.train.optim;
