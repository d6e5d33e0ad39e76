#!/usr/bin/env python3
"""Loads what FinSent (Java) wrote with PythonInteropExport — Hugging Face model directories, PEFT adapters and the
directories `finsent pretrain` saves (BertForMaskedLM, GPT2LMHeadModel) — with
transformers + PEFT, runs the same inputs, and compares the logits with FinSent's own (language models: at the real
tokens; their saved weights are F32, hence the F32 tolerance).

    python3 check_java_exports.py EXPORT_DIR [RESULT.json]

Exit status 1 if any case fails to load, loads with missing/unexpected keys, or disagrees beyond its tolerance
(FP64 cases 1e-9; the F32-saved case 1e-4, the rounding of F32 weights)."""
import json, os, sys, traceback
import torch
from safetensors.torch import load_file
import transformers
from transformers import AutoModelForSequenceClassification, BertForMaskedLM, GPT2LMHeadModel

root = sys.argv[1]
res = {"versions": {"torch": torch.__version__, "transformers": transformers.__version__}, "cases": {}}
try:
    import peft
    res["versions"]["peft"] = peft.__version__
except Exception:
    peft = None
ok = True
for name in sorted(os.listdir(root)):
    d = os.path.join(root, name)
    if not os.path.isfile(os.path.join(d, "case.json")):
        continue
    case = json.load(open(os.path.join(d, "case.json")))
    r = {"kind": case["kind"], "extra": case.get("extra")}
    try:
        io = load_file(os.path.join(d, "io.safetensors"))
        f64 = not case["kind"].endswith("_f32")
        dtype = torch.float64 if f64 else torch.float32
        # PEFT builds its prompt/prefix modules in torch's default dtype: without this an FP64 adapter is cast to FP32
        torch.set_default_dtype(dtype)
        lm = {"mlm_f32": BertForMaskedLM, "clm_f32": GPT2LMHeadModel}.get(case["kind"])
        base_dir = d if case["kind"].startswith("full") or lm else os.path.join(d, "base")
        # a language model is loaded in FP64 from its F32 file, as FinSent computed its logits in FP64
        model, info = (lm or AutoModelForSequenceClassification).from_pretrained(
            base_dir, dtype=torch.float64 if lm else dtype, output_loading_info=True)
        r["loading_info"] = {k: sorted(v) if isinstance(v, (list, set)) else str(v) for k, v in info.items()}
        bad = [k for k in ("missing_keys", "unexpected_keys", "mismatched_keys") if info.get(k)]
        if case["kind"] == "peft":
            model = peft.PeftModel.from_pretrained(model, os.path.join(d, "adapter"))
        model.eval()
        with torch.no_grad():
            logits = model(input_ids=io["input_ids"], attention_mask=io["attention_mask"]).logits.double()
        if lm:  # [B, T, V] at the real tokens (a padded position's logits are not defined alike)
            real = io["attention_mask"].bool()
            diff = (logits[real] - io["logits"][real]).abs().max().item()
            logits = logits[real][:, :8]   # a sample for the result file
        else:
            diff = (logits - io["logits"]).abs().max().item()
        tol = 1e-9 if f64 else 1e-4
        r.update(max_abs_diff=diff, tol=tol, python_logits=logits.tolist(), ok=(diff <= tol and not bad))
    except Exception:
        r.update(ok=False, error=traceback.format_exc())
    ok &= r["ok"]
    res["cases"][name] = r
    print(f"{name:22s} ok={r['ok']} max_abs_diff={r.get('max_abs_diff')} {r.get('error', '')[-400:]}")
res["ok"] = ok
if len(sys.argv) > 2:
    json.dump(res, open(sys.argv[2], "w"), indent=1)
sys.exit(0 if ok else 1)
