"""Writes sklearn_golden.json: scikit-learn's own outputs for ClassificationMetricsSklearnGoldenTest.

Run from this folder with scikit-learn installed:  python3 make_sklearn_golden.py
Each case stores its inputs (so the Java test needs no RNG of Python's) and what scikit-learn returns for
labels=range(K): confusion_matrix, accuracy_score, precision_recall_fscore_support (average=None, macro,
weighted, micro), the classification_report text, and which UndefinedMetricWarnings the per-class call raised.
"""
import json
import random
import warnings

import numpy as np
import sklearn
from sklearn.metrics import (accuracy_score, classification_report, confusion_matrix,
                             precision_recall_fscore_support)


def case(name, y_true, y_pred, k, zero_division="warn", names=None, digits=2):
    labels = list(range(k))
    out = {"name": name, "y_true": y_true, "y_pred": y_pred, "k": k,
           "zero_division": zero_division, "names": names, "digits": digits}
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=None,
                                                     zero_division=zero_division)
        out["warned"] = sorted({str(x.message).split(" is ill-defined")[0] for x in w
                                if "ill-defined" in str(x.message)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["precision"], out["recall"], out["f1"] = p.tolist(), r.tolist(), f.tolist()
        out["support"] = [int(v) for v in s]
        for avg in ("macro", "weighted", "micro"):
            ap, ar, af, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=avg,
                                                            zero_division=zero_division)
            out[avg] = [float(ap), float(ar), float(af)]
        out["accuracy"] = float(accuracy_score(y_true, y_pred))
        out["confusion"] = confusion_matrix(y_true, y_pred, labels=labels).tolist()
        out["report"] = classification_report(y_true, y_pred, labels=labels, target_names=names,
                                              digits=digits, zero_division=zero_division)
    return out


cases = [
    # docstring examples
    case("f1_score docstring", [0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], 3),
    case("confusion_matrix docstring", [2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2], 3),
    case("classification_report docstring", [0, 1, 2, 2, 2], [0, 0, 2, 2, 1], 3,
         names=["class 0", "class 1", "class 2"]),
    case("precision_score docstring, all predicted 0", [0, 1, 2, 0, 1, 2], [0, 0, 0, 0, 0, 0], 3),
    case("precision_score docstring, zero_division=1", [0, 1, 2, 0, 1, 2], [0, 0, 0, 0, 0, 0], 3, zero_division=1),
    case("recall_score docstring, all true 0", [0, 0, 0, 0, 0, 0], [0, 2, 1, 0, 0, 1], 3),
    case("recall_score docstring, zero_division=1", [0, 0, 0, 0, 0, 0], [0, 2, 1, 0, 0, 1], 3, zero_division=1),
    case("accuracy_score docstring", [0, 1, 2, 3], [0, 2, 1, 3], 4),
    # rounding: 29/200 is stored as 0.14499999..., Python prints 0.14; 1/8 is a true tie, Python prints 0.12
    case("rounding 29/200", [0] * 29 + [1] * 171, [0] * 200, 2, names=["negative", "positive"]),
    case("rounding 1/8", [0] + [1] * 7, [0] * 8, 2, digits=2),
    # a class absent from both arrays, each zero_division mode, and digits/width corner cases
    case("absent class, warn", [0, 1, 0, 1, 1], [0, 1, 1, 1, 0], 3),
    case("absent class, 0", [0, 1, 0, 1, 1], [0, 1, 1, 1, 0], 3, zero_division=0),
    case("absent class, 1", [0, 1, 0, 1, 1], [0, 1, 1, 1, 0], 3, zero_division=1, names=["negative", "neutral", "positive"]),
    case("digits 0", [0, 1, 2, 2, 1, 0, 2], [0, 2, 2, 2, 1, 1, 0], 3, digits=0),
    case("digits 4", [0, 1, 2, 2, 2], [0, 0, 2, 2, 1], 3, names=["class 0", "class 1", "class 2"], digits=4),
    case("digits 13 (wider than 'weighted avg')", [0, 1, 2, 2, 2], [0, 0, 2, 2, 1], 3, digits=13),
    case("long and non-ASCII names", [0, 1, 2, 2, 1, 0], [0, 1, 1, 2, 1, 2], 3,
         names=["n\u00e9gatif", "a-very-long-class-name", "\U0001F600 pos"]),
    case("astral-plane name sets the width (Python counts code points)", [0, 1, 2, 2], [0, 1, 2, 1], 3,
         names=["\U0001F600" * 13, "b", "c"]),
    case("single sample", [1], [1], 3),
]
rng = random.Random(20240611)
for i in range(14):
    k = rng.choice([2, 3, 3, 4, 5])
    n = rng.choice([3, 10, 37, 120])
    skew = rng.random()
    y_true = [rng.randrange(k) for _ in range(n)]
    # predictions: mostly right, sometimes stuck on one class (what an early fine-tuning step does)
    stuck = rng.randrange(k)
    y_pred = [t if rng.random() < 0.6 else (stuck if rng.random() < skew else rng.randrange(k)) for t in y_true]
    zd = ["warn", 0, 1][i % 3]
    cases.append(case(f"random {i}", y_true, y_pred, k, zero_division=zd, digits=[2, 3, 4][i % 3]))

meta = {"sklearn": sklearn.__version__, "numpy": np.__version__, "cases": cases}
with open("sklearn_golden.json", "w", encoding="utf-8") as fh:
    json.dump(meta, fh, indent=None, ensure_ascii=False)
    fh.write("\n")
print(len(cases), "cases, sklearn", sklearn.__version__)
