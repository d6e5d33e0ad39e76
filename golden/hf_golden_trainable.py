#!/usr/bin/env python3
"""<case>/trainable.safetensors for the PEFT cases: the trainable parameters that PEFT's save_pretrained leaves out.

PEFT saves prefix tuning in inference form (prompt_embeddings = the prefix encoder's output), so no committed file
held the projection MLP's weights behind golden/peft_prefix_*/grads.safetensors. This script runs the team's
shared/tools/hf_golden.py UNCHANGED, with PeftModel.save_pretrained wrapped so that it also writes
<case>/trainable.safetensors ({PEFT name: value} of every parameter with requires_grad, as the model held them
for the golden forward/backward). It then compares every safetensors file of the committed golden/ with the one the
run regenerated (same seeds, same library versions): the new files belong to the committed run only if all are
bit-identical. Run from the repository root on the device machine:

    python3 golden/hf_golden_trainable.py path/to/hf_golden.py /tmp/regen
    # then copy /tmp/regen/peft_*/trainable.safetensors to golden/peft_*/
"""
import json
import os
import runpy
import sys

import peft
import torch
from safetensors.torch import load_file, save_file

script, out_dir = sys.argv[1], sys.argv[2]
_save_pretrained = peft.PeftModel.save_pretrained


def save_pretrained(self, save_directory, *args, **kwargs):
    result = _save_pretrained(self, save_directory, *args, **kwargs)
    save_file({n: p.detach().clone().contiguous() for n, p in self.named_parameters() if p.requires_grad},
              os.path.join(os.path.dirname(os.path.normpath(save_directory)), "trainable.safetensors"))
    return result


peft.PeftModel.save_pretrained = save_pretrained
sys.argv = ["hf_golden.py", out_dir]
runpy.run_path(script, run_name="__main__")

report = {}
for root, _, files in os.walk("golden"):
    for f in files:
        if f.endswith(".safetensors") and f != "trainable.safetensors":
            p = os.path.join(root, f)
            q = os.path.join(out_dir, os.path.relpath(p, "golden"))
            a, b = load_file(p), (load_file(q) if os.path.exists(q) else {})
            same = a.keys() == b.keys() and all(a[x].dtype == b[x].dtype and torch.equal(a[x], b[x]) for x in a)
            report[p] = "identical" if same else "DIFFERENT"
print(json.dumps(report, indent=0))
sys.exit(0 if report and all(v == "identical" for v in report.values()) else 1)
