"""PyTorch's own FP32 erf / GELU / exp accuracy on CPU (and CUDA when present), against FP64 references.

Substantiates the comparison column of docs/INTEROP.md ("FP32 numerics on the CPU backend"): how far PyTorch's
float kernels are from the exact functions on the grid HostKernelsTest uses for FinSent's kernels.
Usage: python3 torch_fp32_gelu_check.py OUT.json
"""
import json, math, sys
import torch

x = torch.linspace(-6, 6, 2_000_001, dtype=torch.float64).float()   # the FP32 inputs
xd = x.double()
res = {"torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
       "threads": torch.get_num_threads(), "grid": "2,000,001 FP32 points in [-6, 6]"}

def stats(got, exact, grid):
    d = (got.double() - exact).abs()
    ulp = (exact.float().nextafter(torch.tensor(float("inf"))).double() - exact.float().double()).abs()
    keep = exact.abs() >= 1.1754943508222875e-38
    return {"max_abs": d.max().item(), "max_ulp": (d[keep] / ulp[keep]).max().item(),
            "argmax_x": grid[d.argmax()].item()}

erf_exact = torch.erf(xd)
gelu_exact = 0.5 * xd * (1 + torch.erf(xd / math.sqrt(2)))
xe = torch.linspace(-87, 88, 2_000_001, dtype=torch.float64).float()
exp_exact = torch.exp(xe.double())
for dev in ["cpu"] + (["cuda"] if torch.cuda.is_available() else []):
    xx, ee = x.to(dev), xe.to(dev)
    res[dev] = {"erf": stats(torch.erf(xx).cpu(), erf_exact, x),
                "gelu": stats(torch.nn.functional.gelu(xx).cpu(), gelu_exact, x),
                "exp": stats(torch.exp(ee).cpu(), exp_exact, xe)}
json.dump(res, open(sys.argv[1], "w"), indent=2)
print(json.dumps(res, indent=2))
