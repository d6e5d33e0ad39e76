/**
 * FinSent core: parameters, layers with hand-written forward and backward passes on ND4J,
 * BERT and GPT-2 models, and weight IO. (Filled in by the core issue.)
 */
package org.finsent.core;
