#!/usr/bin/env python3
"""golden/bert_mlm/: Transformers' BertForMaskedLM on a tiny random model in FP64, for GoldenMlmTest.

golden/bert_mlm/ was written by this script on 2026-12-07 with torch 2.13.0+cpu, transformers 5.17.0 and
safetensors 0.8.0 (its manifest.json), installed into a virtual environment from the wheels on the development
machine's disk. Run from the repository root on a machine with torch, transformers and safetensors:

    python3 golden/hf_golden_mlm.py golden/bert_mlm

It writes, into the folder given:
  config.json, model.safetensors   save_pretrained of the model (FP64; Transformers leaves out the tied
                                   cls.predictions.decoder.weight / .decoder.bias)
  io.safetensors                   input_ids, token_type_ids, attention_mask, labels (int64), logits [B, T, V],
                                   loss (FP64, computed here from the FP64 logits with ignore_index -100),
                                   model_loss (what the model returned, in its dtype)
  grads.safetensors                d loss / d parameter for every parameter (named_parameters: the tied decoder
                                   weight's gradient is inside bert.embeddings.word_embeddings.weight)
  manifest.json                    versions, seed, shapes, the loss
"""
import json
import os
import sys

import safetensors
import torch
import transformers
from safetensors.torch import save_file
from transformers import BertConfig, BertForMaskedLM

out = sys.argv[1] if len(sys.argv) > 1 else "golden/bert_mlm"
os.makedirs(out, exist_ok=True)
SEED = 20261207
torch.manual_seed(SEED)
torch.use_deterministic_algorithms(True)

config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=24,
                    max_position_embeddings=16, type_vocab_size=2, hidden_act="gelu", hidden_dropout_prob=0.0,
                    attention_probs_dropout_prob=0.0, layer_norm_eps=1e-12, tie_word_embeddings=True)
model = BertForMaskedLM(config).double()
# weights far from the initialisation (LayerNorm weights around 1, everything else N(0, 0.4²)), so that every
# term of the head (dense, GELU, LayerNorm, tied decoder, bias) matters
with torch.no_grad():
    for name, p in model.named_parameters():
        if name.endswith("LayerNorm.weight"):
            p.copy_(1 + 0.2 * torch.randn_like(p))
        else:
            p.copy_(0.4 * torch.randn_like(p))
model.eval()
assert model.cls.predictions.decoder.weight.data_ptr() == model.bert.embeddings.word_embeddings.weight.data_ptr(), "decoder not tied"

# [CLS]=2 ... [SEP]=3, [PAD]=0; the second row right-padded; labels on real tokens only, one id (7) that is no input
input_ids = torch.tensor([[2, 17, 5, 22, 9, 41, 3], [2, 11, 4, 30, 3, 0, 0]], dtype=torch.long)
attention_mask = torch.tensor([[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0, 0]], dtype=torch.long)
token_type_ids = torch.tensor([[0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0]], dtype=torch.long)
labels = torch.tensor([[-100, 17, -100, 7, 9, -100, -100], [-100, 11, 7, 30, -100, -100, -100]], dtype=torch.long)

outputs = model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids, labels=labels)
logits = outputs.logits
loss = torch.nn.functional.cross_entropy(logits.reshape(-1, config.vocab_size), labels.reshape(-1), ignore_index=-100)
model.zero_grad()
loss.backward()

grads = {}
for name, p in model.named_parameters():
    name = "cls.predictions.bias" if name == "cls.predictions.decoder.bias" else name
    grads[name] = p.grad.detach().clone().contiguous()

model.save_pretrained(out, safe_serialization=True)
save_file({"input_ids": input_ids, "token_type_ids": token_type_ids, "attention_mask": attention_mask, "labels": labels,
           "logits": logits.detach().contiguous(), "loss": loss.detach().reshape(1),
           "model_loss": outputs.loss.detach().reshape(1)}, os.path.join(out, "io.safetensors"))
save_file(grads, os.path.join(out, "grads.safetensors"))
with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump({"script": "golden/hf_golden_mlm.py", "seed": SEED, "torch": torch.__version__,
               "transformers": transformers.__version__, "safetensors": safetensors.__version__,
               "logits": list(logits.shape), "loss": loss.item(), "model_loss": outputs.loss.item(),
               "model_loss_dtype": str(outputs.loss.dtype), "n_grads": len(grads)}, f, indent=1)
print(json.dumps({"loss": loss.item(), "model_loss": outputs.loss.item(), "n_grads": len(grads)}))
