/**
 * FinSent PEFT: LoRA, Pfeiffer bottleneck adapters, prefix and prompt tuning. (Filled in by the PEFT issue.)
 */
package org.finsent.peft;
